#!/usr/bin/env bash
# The Debian packages Amparo's commands need: checks them and, run as root, installs the
# missing ones; otherwise prints the one command that installs them.
#
#   scripts/system-packages.sh [--check] NAME...
#
# Each NAME is a set below or a Debian package name:
#   demo      what `make demo` needs: gettext (compilemessages) and WeasyPrint's libraries
#   test      what `make test` needs: the demo set, Chromium for the browser tests and npm
#             (axe-core for the accessibility tests; a Node.js that bundles npm counts)
#   services  the private PostgreSQL and Redis servers scripts/services.sh starts
#   scan      what `make scan` needs: the offline web scanner wapiti, and curl
# e.g. `scripts/system-packages.sh test services`, or `scripts/system-packages.sh make`.
#
# --check only reports: exit status 1 when something is missing, nothing installed.
# Exit status 0 means every package is installed (or this is not a Debian-based system,
# which is only warned about: packages are then yours to provide).
set -euo pipefail

SET_PDF=(
    # WeasyPrint's native libraries and the font its stylesheets name
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core
)
SET_DEMO=(gettext "${SET_PDF[@]}")
SET_TEST=("${SET_DEMO[@]}" chromium npm)
SET_SERVICES=(postgresql redis-server)
SET_SCAN=(wapiti curl)

log() { printf 'system-packages: %s\n' "$*" >&2; }
usage() {
    sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

check_only=0
wanted=()
for arg in "$@"; do
    case "$arg" in
        --check) check_only=1 ;;
        -h | --help) usage 0 ;;
        demo) wanted+=("${SET_DEMO[@]}") ;;
        test) wanted+=("${SET_TEST[@]}") ;;
        services) wanted+=("${SET_SERVICES[@]}") ;;
        scan) wanted+=("${SET_SCAN[@]}") ;;
        -*) log "unknown option $arg"; usage ;;
        *) wanted+=("$arg") ;;
    esac
done
((${#wanted[@]})) || usage

# Sets overlap; keep each package once, in order.
packages=()
for pkg in "${wanted[@]}"; do
    [[ " ${packages[*]-} " == *" $pkg "* ]] || packages+=("$pkg")
done

if ! command -v dpkg-query >/dev/null; then
    log "warning: not a Debian-based system, cannot check for: ${packages[*]}"
    exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
    # NodeSource's nodejs package ships npm itself (and conflicts with Debian's npm).
    if [[ $pkg == npm ]] && command -v npm >/dev/null; then
        continue
    fi
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]} == 0)); then
    log "all present: ${packages[*]}"
    exit 0
fi

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if ((check_only)); then
    log "missing: ${missing[*]}"
    exit 1
fi
if [[ $EUID -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]}"
    if command -v sudo >/dev/null; then
        log "install them with:  sudo $install_cmd"
    else
        log "install them, as root, with:  $install_cmd"
    fi
    exit 1
fi

# apt-get install waits for dpkg's lock (DPkg::Lock::Timeout), but `apt-get update` does not
# wait for the lists lock: on a machine that is still running its own first-boot apt, poll
# all of them first.
wait_for_apt_locks() {
    python3 - <<'EOF'
import fcntl, os, sys, time
locks = ["/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock",
         "/var/cache/apt/archives/lock"]
deadline = time.monotonic() + 900
announced = False
for path in locks:
    if not os.path.exists(path):
        continue
    fd = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(fd, fcntl.LOCK_UN)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"system-packages: {path} still locked after 15 minutes")
                if not announced:
                    print(f"system-packages: waiting for another apt/dpkg to finish ({path})",
                          file=sys.stderr, flush=True)
                    announced = True
                time.sleep(2)
    finally:
        os.close(fd)
EOF
}

# Mirrors and the lock can fail transiently; a real error fails all three tries.
apt_get() {
    local try
    for try in 1 2 3; do
        wait_for_apt_locks
        if DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 \
            -o Dpkg::Use-Pty=0 "$@"; then
            return 0
        fi
        log "apt-get $1 failed (try $try of 3)"
        [[ $try -eq 3 ]] || sleep 5
    done
    return 1
}

log "installing: ${missing[*]}"
# apt's progress goes to stderr so that callers' stdout stays theirs.
apt_get update >&2
apt_get install -y --no-install-recommends "${missing[@]}" >&2
log "installed: ${missing[*]}"

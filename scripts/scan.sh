#!/usr/bin/env bash
# An offline security scan (wapiti, from Debian) of a production-like Amparo on 127.0.0.1.
# What `make scan` runs; not part of `make test`.
#
#   scripts/scan.sh                    # about 15 minutes in all
#   SCAN_MINUTES=40 scripts/scan.sh    # a longer, deeper scan
#
# 1. Checks the Debian packages (scripts/system-packages.sh scan services): run as root, the
#    missing ones are installed; otherwise the command to install them is printed.
# 2. Starts private PostgreSQL and Redis (scripts/services.sh) in a temporary folder, migrates
#    and seeds the demo data (DEBUG=1 seed_demo, with the same keys the server uses), and serves
#    the app production-like under gunicorn on a free 127.0.0.1 port: DEBUG=0, random SECRET_KEY,
#    FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY, Redis cache and broker, collected static files.
#    HTTPS=0 because the scan talks plain http to 127.0.0.1 (so no secure-cookie flags, no HSTS).
# 3. Scans twice: anonymously from / and /give/ (a quarter of the budget), then signed in as the
#    demo supervisor (a session made with Django's test Client.force_login, handed to wapiti as a
#    cookie file). Each scan crawls first, then runs wapiti once per module, each run with an equal
#    share of the time left. Stripe and wapiti's SSRF endpoint are replaced by local listeners:
#    nothing leaves the machine.
# 4. Writes wapiti's reports (json and txt) and the server's logs to var/scan/<timestamp>/ and
#    prints the number of findings per category.
#
# Exit status: 0 when both scans ran (the findings are for a human to judge); non-zero when the
# app did not start or wapiti failed. Everything started here is stopped on exit, also on failure.
#
# Environment: SCAN_MINUTES (the scans' budget, default 15; seeding adds about 2 minutes),
# SCAN_MODULE_STEPS (the wapiti modules, see MODULE_STEPS below), SCAN_REPORT_DIR (default var/scan),
# SCAN_CASES (demo cases crawled when signed in, default 4), SCAN_WORKERS (gunicorn workers,
# default 4), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VENV=${VENV:-.venv}
PY="$ROOT/$VENV/bin/python"
SCAN_MINUTES=${SCAN_MINUTES:-15}
SCAN_WORKERS=${SCAN_WORKERS:-4}
SCAN_CASES=${SCAN_CASES:-4}
SUPERVISOR_EMAIL=supervisor@demo.amparo.test
# The modules of Wapiti 3.0.4 that fit a Django app (`wapiti --list-modules`): its default set
# (blindsql, cookieflags, csp, exec, file, http_headers, permanentxss, redirect, sql, ssrf, xss)
# plus crlf, csrf, methods, backup and htaccess, in the order they run (see run_scan; blindsql,
# which can overrun its time by one page's payloads, runs early so later runs absorb it). Left out:
# brute_login_form (would lock the demo accounts out through axes), buster and nikto (path brute
# force), shellshock (CGI), wapp (fingerprinting), xxe (no XML input anywhere).
MODULE_STEPS=${SCAN_MODULE_STEPS:-"http_headers,cookieflags,csp csrf methods xss,permanentxss sql blindsql exec file redirect crlf ssrf backup htaccess"}

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'scan: error: %s\n' "$*" >&2; exit 1; }

[[ "$SCAN_MINUTES" =~ ^[0-9]+$ && "$SCAN_MINUTES" -ge 2 ]] || die "SCAN_MINUTES must be a whole number of minutes, 2 or more"
[[ "$SCAN_CASES" =~ ^[1-9][0-9]*$ ]] || die "SCAN_CASES must be a number of cases, 1 or more"
[[ -x "$PY" ]] || die "$VENV not found: run \`make venv\` first"

step "System packages"
scripts/system-packages.sh scan services

stamp=$(date +%Y%m%d-%H%M%S)
report_dir="${SCAN_REPORT_DIR:-var/scan}/$stamp"
mkdir -p "$report_dir"
report_dir=$(cd "$report_dir" && pwd)
work=$(mktemp -d /tmp/amparo-scan.XXXXXX)
state="$work/services"
mkdir -p "$state"

pids=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    scripts/services.sh stop "$state" || true
    # Keep the server's logs with the reports (demo data only: fictional people).
    cp -f "$work/gunicorn.log" "$work/access.log" "$report_dir/" 2>/dev/null || true
    if [[ $rc -eq 0 ]]; then
        rm -rf "$work"
    else
        echo "scan: failed (exit $rc); work folder kept in $work, logs in $report_dir" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

step "Starting private PostgreSQL and Redis"
exports=$(scripts/services.sh start "$state")
eval "$exports"
redis_base=${TEST_REDIS_URL%/*}

# --- The environment of a production-like run ---------------------------------------------
port=$(free_port)
base="http://127.0.0.1:$port"
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
export DJANGO_SETTINGS_MODULE=amparo.settings
export DEBUG=0 HTTPS=0
SECRET_KEY=$(random 64)
BLIND_INDEX_KEY=$(random 48)
FIELD_ENCRYPTION_KEYS=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
export SECRET_KEY BLIND_INDEX_KEY FIELD_ENCRYPTION_KEYS
export SITE_URL="$base" ALLOWED_HOSTS=127.0.0.1
export CELERY_BROKER_URL="$redis_base/0" CACHE_URL="$redis_base/1"
export AMPARO_VAR_DIR="$work/var" PRIVATE_MEDIA_ROOT="$work/var/private" STATIC_ROOT="$work/static"
# No Stripe on an offline machine: a local listener that answers every call with an error, so a
# donation attempt fails fast instead of leaving the machine.
stripe_port=$(free_port)
export STRIPE_API_BASE="http://127.0.0.1:$stripe_port" STRIPE_SECRET_KEY=sk_test_scan_offline
export STRIPE_WEBHOOK_SECRET=whsec_scan_offline_$(random 16)
export EMAIL_URL=consolemail:// LOG_LEVEL=WARNING
unset CSRF_TRUSTED_ORIGINS PROXY_COUNT BEHIND_TLS_PROXY
mkdir -p "$PRIVATE_MEDIA_ROOT" "$STATIC_ROOT"

step "Migrating and seeding the demo data"
"$PY" manage.py migrate --noinput --verbosity 0
# The demo app exists only with DEBUG on; the keys are the ones the server is started with.
DEBUG=1 "$PY" manage.py seed_demo >"$work/seed.log" 2>&1 || { tail -n 30 "$work/seed.log" >&2; die "seed_demo failed"; }
"$PY" manage.py collectstatic --noinput --verbosity 0

# --- Local stand-ins for the outside world -------------------------------------------------
# wapiti's SSRF module makes the app call "{endpoint}ssrf/<session>/<path id>/<hex param>/" and
# then asks "{endpoint}get_ssrf.php?id=<session>" which requests arrived. This listener plays
# that endpoint (and Stripe, with a 503), so the SSRF check works offline.
endpoint_port=$(free_port)
endpoint="http://127.0.0.1:$endpoint_port/"
python3 - "$endpoint_port" "$stripe_port" >"$work/endpoint.log" 2>&1 <<'EOF' &
import datetime, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

hits = {}  # session id -> path id -> hex parameter -> [request]
lock = threading.Lock()


class Endpoint(BaseHTTPRequestHandler):
    def handle_any(self):
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if self.server.server_port == STRIPE_PORT:
            self.reply(503, {"error": {"message": "offline scan: no Stripe"}})
        elif parts[:1] == ["get_ssrf.php"]:
            session = parse_qs(url.query).get("id", [""])[0]
            with lock:
                self.reply(200, hits.get(session, {}))
        elif len(parts) >= 4 and parts[0] == "ssrf":
            record = {"url": self.path, "date": datetime.datetime.now().isoformat(), "ip": self.client_address[0],
                      "method": self.command, "size": int(self.headers.get("Content-Length") or 0)}
            with lock:
                hits.setdefault(parts[1], {}).setdefault(parts[2], {}).setdefault(parts[3], []).append(record)
            print("SSRF HIT", record, flush=True)
            self.reply(200, {})
        else:
            print("endpoint request", self.command, self.path, flush=True)
            self.reply(404, {})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, *args):
        pass


ENDPOINT_PORT, STRIPE_PORT = int(sys.argv[1]), int(sys.argv[2])
servers = [ThreadingHTTPServer(("127.0.0.1", p), Endpoint) for p in (ENDPOINT_PORT, STRIPE_PORT)]
threading.Thread(target=servers[1].serve_forever, daemon=True).start()
servers[0].serve_forever()
EOF
pids+=($!)

# --- The app under gunicorn -----------------------------------------------------------------
step "Serving the app (DEBUG=0) under gunicorn on $base"
"$ROOT/$VENV/bin/gunicorn" amparo.wsgi --bind "127.0.0.1:$port" --workers "$SCAN_WORKERS" --threads 2 \
    --timeout 60 --graceful-timeout 5 --access-logfile "$work/access.log" \
    --access-logformat '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"' --error-logfile "$work/gunicorn.log" \
    --capture-output </dev/null &
gunicorn_pid=$!
pids+=("$gunicorn_pid")
for i in $(seq 1 120); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" 2>/dev/null)" == 200 ]]; then
        break
    fi
    if ! kill -0 "$gunicorn_pid" 2>/dev/null; then
        tail -n 40 "$work/gunicorn.log" >&2
        die "gunicorn exited before answering /healthz (log: $report_dir/gunicorn.log)"
    fi
    [[ $i -lt 120 ]] || { tail -n 40 "$work/gunicorn.log" >&2; die "no healthy /healthz after 60 s"; }
    sleep 0.5
done
echo "healthy: $(curl -s "$base/healthz")"

# --- The supervisor's session -----------------------------------------------------------------
# The demo accounts have an authenticator, so the MFA middleware lets the session through.
# Every case page has a dozen forms and wapiti needs seconds to parse each page: crawling all
# demo cases would spend the whole budget on one template. So a few cases that between them show
# every kind of record are scanned (SCAN_CASES of them), and the other cases are excluded.
"$PY" manage.py shell -c "
from django.conf import settings
from django.db.models import Count
from django.test import Client
from accounts.models import User
from casework.models import Case

client = Client()
client.force_login(User.objects.get(email='$SUPERVISOR_EMAIL'), backend='accounts.backends.StaffAuthenticationBackend')
print('SESSION', client.cookies[settings.SESSION_COOKIE_NAME].value)
cases = Case.objects.order_by('number')
keep = []
for qs in (
    cases.annotate(n=Count('documents')).order_by('-n', 'number'),  # documents, notes, hearings, deadlines
    cases.filter(bonds__isnull=False),
    cases.filter(closed_at__isnull=False),
    cases.filter(assignments__isnull=True),  # in triage
    cases.filter(disbursements__isnull=False),
    cases.filter(custody_periods__isnull=False),
):
    number = qs.exclude(number__in=keep).values_list('number', flat=True).first()
    if number and len(keep) < $SCAN_CASES:
        keep.append(number)
print('KEEP', *keep)
print('SKIP', *cases.exclude(number__in=keep).values_list('number', flat=True))
" >"$work/supervisor.txt" 2>>"$work/shell.log" || { cat "$work/shell.log" >&2; die "could not create a session for $SUPERVISOR_EMAIL"; }
session=$(sed -n 's/^SESSION //p' "$work/supervisor.txt")
read -r -a keep_cases <<<"$(sed -n 's/^KEEP *//p' "$work/supervisor.txt")"
read -r -a skip_cases <<<"$(sed -n 's/^SKIP *//p' "$work/supervisor.txt")"
echo "supervisor session ready; cases scanned: ${keep_cases[*]:-none} (${#skip_cases[@]} others excluded)"
case_excludes=()
for number in "${skip_cases[@]}"; do
    case_excludes+=(-x "$base/cases/$number/*")
done
case_starts=()
for number in "${keep_cases[@]}"; do
    case_starts+=(-s "$base/cases/$number/")
done
[[ -n "$session" ]] || die "could not create a session for $SUPERVISOR_EMAIL"
status=$(curl -s -o /dev/null -w '%{http_code}' -b "sessionid=$session" "$base/dashboard/")
[[ "$status" == 200 ]] || die "the supervisor's session does not open /dashboard/ (HTTP $status)"
# Cookie files rather than -H "Cookie: ...": with an explicit Cookie header, wapiti's HTTP library
# would no longer send the cookies the app sets. Both files carry one csrftoken cookie, fetched
# here: wapiti runs once per module (below) and each run starts from the file, so the CSRF tokens
# in the forms it stored while crawling stay valid in every run.
csrf_cookie=$(curl -s -o /dev/null -c - "$base/accounts/login/" | awk '$6 == "csrftoken" {print $7}')
[[ -n "$csrf_cookie" ]] || die "no csrftoken cookie from /accounts/login/"
cookie_file() {  # cookie_file NAME=VALUE...: wapiti's JSON cookie file for 127.0.0.1
    python3 - "$@" <<'EOF'
import json, sys
cookies = {}
for pair in sys.argv[1:]:
    name, value = pair.split("=", 1)
    cookies[name] = {"value": value, "expires": None, "secure": False, "port": None, "version": 0}
print(json.dumps({"127.0.0.1": {"/": cookies}}))
EOF
}
cookie_file "csrftoken=$csrf_cookie" >"$work/anonymous-cookies.json"
cookie_file "csrftoken=$csrf_cookie" "sessionid=$session" >"$work/supervisor-cookies.json"

# --- wapiti --------------------------------------------------------------------------------
# Debian's wapiti 3.0.4 compiles -x patterns into a regex with its flags at the end, which
# Python 3.11 refuses ("global flags not at the start"): run it with that one function fixed.
cat >"$work/wapiti.py" <<'EOF'
import re, sys
import wapitiCore.net.crawler as crawler
from wapitiCore.main.wapiti import wapiti_main

def wildcard_translate(pattern):
    return re.compile("(?ms)" + "".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")

crawler.wildcard_translate = wildcard_translate
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
EOF
# wapiti 3.0.4 would download its fingerprint database at start-up (even with the wapp module
# off): an empty one keeps it offline.
mkdir -p "$work/wapiti-config"
echo '{}' >"$work/wapiti-config/apps.json"

# run_wapiti LOG TIMEOUT OUTPUT [options...]: one wapiti run, appended to LOG, killed after TIMEOUT
# seconds (a safety net: wapiti checks its own limits between requests); fails unless it wrote
# the report OUTPUT.
run_wapiti() {
    local log=$1 limit=$2 output=$3 rc=0
    shift 3
    rm -f "$output"
    printf '\n### wapiti %s\n' "$*" >>"$log"
    timeout --signal=TERM --kill-after=30 "$limit" /usr/bin/python3 "$work/wapiti.py" "$@" -o "$output" \
        >>"$log" 2>&1 </dev/null || rc=$?
    if [[ $rc -ne 0 || ! -s "$output" ]]; then
        echo "  wapiti failed (exit $rc); the end of $log:" >&2
        tail -n 15 "$log" >&2
        return 1
    fi
}

# The modules, in the order they run; modules joined by commas run together (permanentxss needs
# xss in the same run). Each run gets an equal share of the time the scan has left, so what the
# quick ones (headers, cookies, CSP, CSRF, methods) do not use goes to the payload-sending ones.
IFS=' ' read -r -a SCAN_STEPS <<<"${MODULE_STEPS}"

# run_scan NAME BUDGET_SECONDS COOKIE_FILE [crawl options...]: crawl for a fifth of the budget
# (at least 30 s), run the modules one step at a time, then write NAME.json and NAME.txt.
run_scan() {
    local name=$1 budget=$2 cookies=$3
    shift 3
    local started=$SECONDS deadline=$((SECONDS + budget)) crawl=$((budget / 5 > 30 ? budget / 5 : 30))
    local out="$report_dir/$name" scratch="$work/$name-run.json" i left slice count
    # Payloads are not wasted on Django's CSRF token field (a changed token is a 403, nothing more).
    local session_opts=(
        -u "$base/" --scope folder --store-session "$work/wapiti-$name" --store-config "$work/wapiti-config"
        -c "$cookies" --endpoint "$endpoint" --no-bugreport -v 1 -t 10 --skip csrfmiddlewaretoken
    )
    : >"$out.log"
    step "wapiti: $name scan, ${budget}s (crawl ${crawl}s, then ${#SCAN_STEPS[@]} module runs)"
    run_wapiti "$out.log" $((crawl + 120)) "$scratch" "${session_opts[@]}" --flush-session --module=-all \
        --max-scan-time "$crawl" -x "$base/accounts/logout/*" -x "$base/i18n/setlang/*" "$@" -f json || return 1
    echo "  crawled in $((SECONDS - started)) s: $(grep -o 'found [0-9]* URLs and forms' "$out.log" | tail -n 1)"
    for ((i = 0; i < ${#SCAN_STEPS[@]}; i++)); do
        left=$((deadline - SECONDS))
        slice=$((left / (${#SCAN_STEPS[@]} - i)))
        ((slice >= 10)) || slice=10
        count=$(tr ',' '\n' <<<"${SCAN_STEPS[i]}" | wc -l)
        local step_started=$SECONDS
        # --max-attack-time is per module; a step of two (xss, then the quick permanentxss) may
        # take longer, and the steps after it share what is left.
        run_wapiti "$out.log" $((slice * count * 2 + 120)) "$scratch" "${session_opts[@]}" --skip-crawl \
            -m "${SCAN_STEPS[i]}" --max-attack-time "$slice" -f json || return 1
        printf '  %-30s %4d s (limit %d s per module)\n' "${SCAN_STEPS[i]}" $((SECONDS - step_started)) "$slice"
    done
    # The reports, from everything the runs stored: nothing is crawled or attacked again.
    run_wapiti "$out.log" 120 "$out.json" "${session_opts[@]}" --skip-crawl --module=-all -f json || return 1
    run_wapiti "$out.log" 120 "$out.txt" "${session_opts[@]}" --skip-crawl --module=-all -f txt || return 1
    rm -f "$scratch"
    echo "  $name scan done in $((SECONDS - started)) s; log: $out.log"
}

failed=()
scan_started=$SECONDS
run_scan anonymous $((SCAN_MINUTES * 60 / 4)) "$work/anonymous-cookies.json" -s "$base/give/" || failed+=(anonymous)
# The signed-in scan gets the rest of the budget, including what the anonymous one did not use.
left=$((scan_started + SCAN_MINUTES * 60 - SECONDS))
run_scan supervisor $((left > 120 ? left : 120)) "$work/supervisor-cookies.json" \
    -s "$base/dashboard/" "${case_starts[@]}" "${case_excludes[@]}" \
    -x "$base/accounts/2fa/*deactivate*" -x "$base/accounts/2fa/recovery-codes/generate/*" \
    -x "$base/accounts/password/change/*" -x "$base/accounts/reauthenticate/*" || failed+=(supervisor)
scan_seconds=$((SECONDS - scan_started))

# Did the supervisor stay signed in to the end? (If not, the signed-in scan saw the login page.)
status=$(curl -s -o /dev/null -w '%{http_code}' -b "sessionid=$session" "$base/dashboard/")
[[ "$status" == 200 ]] || echo "warning: the supervisor's session ended during the scan (HTTP $status at the end)" >&2

# --- Summary ---------------------------------------------------------------------------------
step "Findings (reports in $report_dir)"
python3 - "$report_dir" "$work/access.log" "$base" "$csrf_cookie" "$session" <<'EOF'
import json, pathlib, re, sys
import urllib.error, urllib.parse, urllib.request
from collections import Counter

report_dir = pathlib.Path(sys.argv[1])
for path in sorted(report_dir.glob("*.json")):
    data = json.loads(path.read_text())
    print(f"{path.stem}: {data.get('infos', {}).get('target', '')}")
    for kind in ("vulnerabilities", "anomalies", "additionals"):
        counts = {cat: len(items) for cat, items in (data.get(kind) or {}).items() if items}
        total = sum(counts.values())
        print(f"  {kind}: {total}")
        for cat, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"    {n:4d}  {cat}")
statuses, errors = Counter(), Counter()
try:
    for line in open(sys.argv[2], errors="replace"):
        m = re.search(r'"[A-Z]+ ([^ ?"]*)[^"]*" (\d{3}) ', line)
        if m:
            statuses[m.group(2)[0] + "xx"] += 1
            if m.group(2).startswith("5"):
                errors[(m.group(2), m.group(1))] += 1
except FileNotFoundError:
    pass
print("server responses during the scans:", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "none logged")
if errors:
    print("server errors (5xx), by path:")
    for (status, path), n in errors.most_common(20):
        print(f"  {n:4d}  {status} {path}")

# wapiti 3.0.4 looks for a CSRF token under a fixed list of names, which lacks Django's
# "csrfmiddlewaretoken": it reports every Django form. Re-check each reported form by posting it
# without the token, as its scan's user: Django must refuse every one with 403.
base, csrf_cookie, session = sys.argv[3:6]
cookies = {"anonymous": f"csrftoken={csrf_cookie}", "supervisor": f"csrftoken={csrf_cookie}; sessionid={session}"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
for path in sorted(report_dir.glob("*.json")):
    findings = json.loads(path.read_text()).get("vulnerabilities", {}).get("Cross Site Request Forgery") or []
    if not findings or path.stem not in cookies:
        continue
    outcome, accepted = Counter(), []
    for finding in findings:
        head, _, body = finding["http_request"].partition("\n\n")
        fields = [(k, v) for k, v in urllib.parse.parse_qsl(body.strip()) if k != "csrfmiddlewaretoken"]
        url = base + finding["path"]
        request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                         headers={"Cookie": cookies[path.stem], "Referer": url})
        try:
            status = opener.open(request, timeout=30).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        outcome[status] += 1
        if status != 403:
            accepted.append(f"{status} {finding['path']}")
    print(f"{path.stem}: the {len(findings)} CSRF findings re-posted without the token: "
          + ", ".join(f"{n} answered {code}" for code, n in sorted(outcome.items())))
    for line in accepted:
        print(f"  NOT REFUSED (check by hand): {line}")
EOF
echo "scan time: $((scan_seconds / 60)) min $((scan_seconds % 60)) s (budget ${SCAN_MINUTES} min)"
if grep -q "SSRF HIT" "$work/endpoint.log" 2>/dev/null; then
    echo "the app called the SSRF endpoint: see the ssrf findings"
fi

if ((${#failed[@]})); then
    die "wapiti failed for: ${failed[*]}"
fi

#!/usr/bin/env bash
# Private, throw-away PostgreSQL and Redis servers for tests, on 127.0.0.1 only.
#
#   scripts/services.sh start STATEDIR   # prints `export DATABASE_URL=...` and
#                                        # `export TEST_REDIS_URL=...` on stdout
#   scripts/services.sh stop STATEDIR    # stops both and removes their data
#
# Usage from a shell:
#   state=$(mktemp -d)
#   exports=$(scripts/services.sh start "$state") && eval "$exports"
#   ...
#   scripts/services.sh stop "$state"
#
# Each server gets a free port picked at start. Logs go to STATEDIR/postgres.log and
# STATEDIR/redis.log; nothing but the export lines is written to stdout. PostgreSQL's
# data directory lives in its own /tmp/amparo-pg.* directory (owned by the `postgres`
# user when run as root, since PostgreSQL refuses to run as root), recorded in
# STATEDIR/pg.dir. `stop` is safe to run more than once and after a failed `start`.
set -euo pipefail

PG_USER=amparo
PG_DB=amparo

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$dir" ]]; then
        # Not Debian's layout: fall back to whatever is on PATH.
        local initdb
        initdb=$(command -v initdb || true)
        [[ -n "$initdb" ]] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
        dir=$(dirname "$initdb")
    fi
    echo "$dir"
}

# Run a command as the PostgreSQL OS user: `postgres` when we are root, else ourselves.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_locale() {
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        echo C.UTF-8
    else
        echo C
    fi
}

start_postgres() {
    local state=$1 bindir pgdir port attempt
    bindir=$(pg_bindir)
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (apt-get install postgresql)"
    fi
    pgdir=$(mktemp -d /tmp/amparo-pg.XXXXXX)
    echo "$pgdir" >"$state/pg.dir"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$pgdir"; fi
    chmod 700 "$pgdir"

    log "initdb ($("$bindir/postgres" --version)) in $pgdir/data"
    (cd "$pgdir" && as_pg "$bindir/initdb" -D "$pgdir/data" --auth=trust -U "$PG_USER" \
        --encoding=UTF8 --locale="$(pg_locale)" --no-sync) >>"$state/postgres.log" 2>&1 \
        || { tail -n 30 "$state/postgres.log" >&2; die "initdb failed (log: $state/postgres.log)"; }

    # A port that was free when picked can be taken before the server binds it: retry.
    for attempt in 1 2 3; do
        port=$(free_port)
        echo "$port" >"$state/pg.port"
        if (cd "$pgdir" && as_pg "$bindir/pg_ctl" -D "$pgdir/data" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start) </dev/null >>"$state/postgres.log" 2>&1; then
            break
        fi
        log "PostgreSQL did not start on port $port (attempt $attempt)"
        [[ $attempt -lt 3 ]] || { tail -n 30 "$state/postgres.log" >&2; die "PostgreSQL failed to start (log: $state/postgres.log)"; }
    done

    local i
    for i in $(seq 1 60); do
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres && break
        [[ $i -lt 60 ]] || die "PostgreSQL on 127.0.0.1:$port not ready after 30 s"
        sleep 0.5
    done
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" -O "$PG_USER" "$PG_DB" >>"$state/postgres.log" 2>&1 \
        || die "createdb $PG_DB failed (log: $state/postgres.log)"
    log "PostgreSQL ready on 127.0.0.1:$port (database $PG_DB, role $PG_USER)"
}

start_redis() {
    local state=$1 port attempt i
    command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
    command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
    for attempt in 1 2 3; do
        port=$(free_port)
        echo "$port" >"$state/redis.port"
        rm -f "$state/redis.pid"
        # With --daemonize the parent exits 0 once it has forked; non-zero means the
        # command line itself was refused, and trying another port would not help.
        redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
            --daemonize yes --dir "$state" --pidfile "$state/redis.pid" \
            --logfile "$state/redis.log" </dev/null >>"$state/redis.log" 2>&1 \
            || { tail -n 30 "$state/redis.log" >&2; die "redis-server refused to start (log: $state/redis.log)"; }
        for i in $(seq 1 40); do
            if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
                log "Redis ready on 127.0.0.1:$port"
                return 0
            fi
            sleep 0.25
        done
        log "Redis did not answer on port $port (attempt $attempt)"
        stop_redis "$state"
    done
    tail -n 30 "$state/redis.log" >&2
    die "Redis failed to start (log: $state/redis.log)"
}

stop_postgres() {
    local state=$1 pgdir pid i
    [[ -f "$state/pg.dir" ]] || return 0
    pgdir=$(cat "$state/pg.dir")
    if [[ -f "$pgdir/data/postmaster.pid" ]]; then
        (cd "$pgdir" && as_pg "$(pg_bindir)/pg_ctl" -D "$pgdir/data" -m fast -w -t 30 stop) \
            </dev/null >>"$state/postgres.log" 2>&1 || true
    fi
    if [[ -f "$pgdir/data/postmaster.pid" ]]; then
        pid=$(head -n 1 "$pgdir/data/postmaster.pid")
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            log "PostgreSQL (pid $pid) still running: sending SIGQUIT"
            kill -QUIT "$pid" 2>/dev/null || true
            for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    case "$pgdir" in
        /tmp/amparo-pg.*) rm -rf "$pgdir" ;;
    esac
    rm -f "$state/pg.dir" "$state/pg.port"
    log "PostgreSQL stopped"
}

stop_redis() {
    local state=$1 pid i port
    if [[ -f "$state/redis.port" ]]; then
        port=$(cat "$state/redis.port")
        redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    if [[ -f "$state/redis.pid" ]]; then
        pid=$(cat "$state/redis.pid")
        for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$state/redis.pid"
    fi
    [[ -f "$state/redis.port" ]] && log "Redis stopped"
    rm -f "$state/redis.port"
}

cmd=${1:-}
state=${2:-}
[[ -n "$cmd" && -n "$state" ]] || die "usage: $0 start|stop STATEDIR"

case "$cmd" in
    start)
        mkdir -p "$state"
        state=$(cd "$state" && pwd)
        # On any failure, leave nothing running behind.
        trap 'rc=$?; if [[ $rc -ne 0 ]]; then stop_redis "$state" || true; stop_postgres "$state" || true; fi' EXIT
        start_postgres "$state"
        start_redis "$state"
        {
            echo "export DATABASE_URL=postgres://$PG_USER@127.0.0.1:$(cat "$state/pg.port")/$PG_DB"
            echo "export TEST_REDIS_URL=redis://127.0.0.1:$(cat "$state/redis.port")/0"
        } | tee "$state/env.sh"
        ;;
    stop)
        [[ -d "$state" ]] || exit 0
        state=$(cd "$state" && pwd)
        stop_redis "$state"
        stop_postgres "$state"
        ;;
    *)
        die "usage: $0 start|stop STATEDIR"
        ;;
esac

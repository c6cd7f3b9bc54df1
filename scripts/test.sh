#!/usr/bin/env bash
# The full check that `make test` and CI run. Arguments are passed on to pytest
# (`make test PYTEST_ARGS="-k casework -x"`).
#
# First the Debian packages the tests need are checked (scripts/system-packages.sh): run as
# root, the missing ones are installed; otherwise the command to install them is printed.
#
# When DATABASE_URL is not set, private PostgreSQL and Redis servers are started on
# free 127.0.0.1 ports with scripts/services.sh and stopped at the end, also on failure.
# When it is set (servers of your own), the given DATABASE_URL / TEST_REDIS_URL are used.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
step() { printf '\n==> %s\n' "$*"; }

step "System packages"
if [[ -z "${DATABASE_URL:-}" ]]; then
    scripts/system-packages.sh test services
else
    scripts/system-packages.sh test
fi

if [[ -z "${DATABASE_URL:-}" ]]; then
    state=$(mktemp -d /tmp/amparo-services.XXXXXX)
    cleanup() {
        local rc=$?
        scripts/services.sh stop "$state" || true
        if [[ $rc -eq 0 ]]; then
            rm -rf "$state"
        else
            echo "(service logs kept in $state)" >&2
        fi
        exit "$rc"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    step "Starting private PostgreSQL and Redis"
    exports=$(scripts/services.sh start "$state")
    eval "$exports"
fi

if [[ -z "${CHROMIUM_PATH:-}" ]] && command -v chromium >/dev/null; then
    CHROMIUM_PATH=$(command -v chromium)
    export CHROMIUM_PATH
fi
# axe-core, injected into Chromium pages by the accessibility tests: installed here from the
# lock file, never fetched while the tests run.
if [[ ! -f node_modules/axe-core/axe.min.js || package-lock.json -nt node_modules/.package-lock.json ]]; then
    step "npm ci (axe-core)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
export AXE_CORE_PATH="$PWD/node_modules/axe-core/axe.min.js"

echo "DATABASE_URL=${DATABASE_URL:-}"
echo "TEST_REDIS_URL=${TEST_REDIS_URL:-}"
echo "CHROMIUM_PATH=${CHROMIUM_PATH:-}"

# compilemessages fails when there is no locale directory at all, so skip it then.
if [[ -n "$(find . -path "./$VENV" -prune -o -path ./node_modules -prune -o -type d -name locale -print -quit)" ]]; then
    step "compilemessages"
    DJANGO_SETTINGS_MODULE=tests.settings "$VENV/bin/python" manage.py compilemessages --ignore="$VENV" --verbosity 0
fi

step "ruff check"
"$VENV/bin/ruff" check .

step "ruff format --check"
"$VENV/bin/ruff" format --check .

step "import-linter (the layers of docs/architecture.md)"
"$VENV/bin/lint-imports"

step "mypy"
"$VENV/bin/mypy"

step "makemigrations --check"
DJANGO_SETTINGS_MODULE=tests.settings "$VENV/bin/python" manage.py makemigrations --check --dry-run

step "pytest"
"$VENV/bin/pytest" -p no:cacheprovider "$@"

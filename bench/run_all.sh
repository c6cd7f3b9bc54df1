#!/usr/bin/env bash
# Every bench scenario (bench/pages.py: locust against one gunicorn sync worker, with the
# baselines) on each bench database, then the results table in bench/README.md.
#
#   bench/run_all.sh                                   # the database DATABASE_URL names
#   BENCH_ENVS="/tmp/svc-b100k.env /tmp/svc-b1m.env" bench/run_all.sh --runs 50
#
# BENCH_ENVS: files as `scripts/services.sh start` prints them (DATABASE_URL, TEST_REDIS_URL),
# one run each, smallest data first. Other arguments go to every bench/pages.py run.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python

if [[ -z "${BENCH_ENVS:-}" ]]; then
    "$python" bench/pages.py "$@"
else
    for env_file in $BENCH_ENVS; do
        echo "== $env_file"
        (
            # shellcheck disable=SC1090  # the bench database's settings, as services.sh wrote them
            eval "$(cat "$env_file")"
            "$python" bench/pages.py "$@"
        )
    done
fi
# The table from every bench/results/pages-*.json (each size's last run of each page); the
# script needs a DATABASE_URL to start, not the database.
(
    [[ -n "${BENCH_ENVS:-}" ]] && eval "$(cat "${BENCH_ENVS##* }")"
    "$python" bench/pages.py --compare --write-readme > /dev/null
)
echo "bench/README.md: table written between <!-- bench:pages:begin --> and <!-- bench:pages:end -->"

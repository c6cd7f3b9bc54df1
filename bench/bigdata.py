"""Fill the benchmark database fast with a realistic network: up to a million cases.

Run (DATABASE_URL names the database; it is migrated first)::

    state=/tmp/svc-bench && mkdir -p $state && eval "$(scripts/services.sh start $state)"
    .venv/bin/python bench/bigdata.py --cases 100000 --access-events 1000000
    .venv/bin/python bench/bigdata.py --cases 300000     # adds 200,000 to the 100,000
    .venv/bin/python bench/bigdata.py --cases 1000000    # adds 700,000 more

The generator is ``manage.py seed_scale`` (``demo/management/commands/seed_scale.py``, the code in
``demo/scale/``): its flags are this script's (``--cases``, ``--attorneys``, ``--access-events``,
``--donations``, ``--chunk``, ``--check``, ``--seed``, ``--force``), every count a total, and its
figures go to ``bench/results/bigdata-<cases>.json``. This wrapper only runs it under the bench
environment of ``bench/bigenv.py``, so that the data it encrypts and blind-indexes is what
``bench/pages.py``'s gunicorn worker decrypts and searches.

Why DEBUG is on here and only here: ``bigenv`` runs the app with DEBUG off, as production does,
but seed_scale lives in the ``demo`` app, which ``amparo/settings.py`` installs only with DEBUG on,
and it refuses to run without DEBUG because its accounts share a published password. Turning DEBUG
on for this one seeding process passes both gates the way a developer's machine does, without a
settings module of the bench's own or a second way of installing the demo app. DEBUG changes
nothing in the rows written (the keys are bigenv's fixed ones either way), and no page is served
by this process: ``bench/pages.py`` still measures with DEBUG off.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

os.environ["DEBUG"] = "true"  # this process only: see above
bigenv.apply()

from django.core.management import execute_from_command_line  # noqa: E402


def main() -> None:
    report = str(bigenv.RESULTS / "bigdata-{cases}.json")
    execute_from_command_line([sys.argv[0], "migrate", "--verbosity", "0"])
    execute_from_command_line([sys.argv[0], "seed_scale", *sys.argv[1:], "--report", report])


if __name__ == "__main__":
    main()

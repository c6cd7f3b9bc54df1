"""A realistic network at scale (up to a million cases), bulk-loaded with PostgreSQL ``COPY``.

``manage.py seed_scale`` (``demo/management/commands/seed_scale.py``) runs it; ``bench/bigdata.py``
calls that command for the benchmarks. The modules:

* ``names``: the names, places and choices people are made of (a long tail, Zipf-weighted);
* ``values``: encryption and blind indexes through the app's own functions, with caches;
* ``bulk``: primary keys handed out here, rows gathered per table, and the writer (``COPY`` in a
  thread of its own while the next chunk is generated);
* ``staff``: the seeded accounts (and how to tell them from anyone else's);
* ``cases``: detainees, cases, custody, assignments, guardian rows, hearings, deadlines, notes,
  the timeline and the case's own access-log rows;
* ``activity``: the rest of the access log, donations and their ledger transactions;
* ``checks``: what is verified after a run;
* ``run``: the whole run, as the command calls it.
"""

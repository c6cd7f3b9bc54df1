"""Demo data for a local run (``manage.py seed_demo``). Development only: installed when DEBUG is on.

Everything here is invented; the names, places and notes it uses are data files in ``demo/data/``.
Records are made through the apps' services, exactly as staff make them.
"""

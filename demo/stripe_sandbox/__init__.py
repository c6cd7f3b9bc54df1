"""The demo's Stripe sandbox: a stand-in for Stripe on this machine (``manage.py stripe_sandbox``).

``fake`` is Stripe's API and state (also the tests' fake server), ``pages`` its hosted Checkout page
and its own page, ``delivery`` the signed webhooks it sends to Amparo, ``seeded`` what the demo's
seed tells it about gifts made before it started.
"""

"""The shared kernel: small helpers every app may import, and which imports none of our apps.

What lives here is what more than one app needs with exactly one behaviour (money as text,
the start of a booking day in the fund's time zone, the local-only PDF resource fetcher, form
error helpers, the proxy-aware client IP, the navigation registry). It depends on Django and
the standard library only; ``make lint`` (import-linter) refuses an import of ``accounts``,
``casework``, ``funds``, ``reports`` or ``amparo`` from here. See ``docs/architecture.md``.
"""

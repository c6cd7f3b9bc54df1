"""Headers WhiteNoise adds to every static file (``WHITENOISE_ADD_HEADERS_FUNCTION``).

WhiteNoise answers before django-csp's middleware, so without this a static file would have no
Content-Security-Policy. Fonts, stylesheets and scripts are not documents: a policy that allows
nothing and no framing does not change how our pages use them, but a file opened on its own (an
SVG, a stray HTML file) can run nothing and cannot be framed (ASVS 3.4.3, 3.4.6).
"""

from __future__ import annotations

from wsgiref.headers import Headers

STATIC_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_static_headers(headers: Headers, path: str, url: str) -> None:
    """Add the policy and ``nosniff`` to a static file's headers (``path`` on disk, ``url`` asked for)."""
    headers["Content-Security-Policy"] = STATIC_CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"

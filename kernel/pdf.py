"""What every PDF renderer shares: the shipped static files, the one stylesheet base, and a
WeasyPrint URL fetcher that reads those files and nothing else.

Reports (``reports.pdf.render``) and donor receipts (``funds.receipt_pdf``) both render with
WeasyPrint. Their stylesheets extend ``static/css/pdf-base.css`` (fonts, body text, colours)
with ``@import``, which WeasyPrint resolves through the same local-only fetcher.

WeasyPrint is imported inside the function that needs it: web processes that never render a
PDF do not pay for the import. Report render workers are spawned processes that import this
module without ``django.setup()``; nothing here needs the app registry until it is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders

# Relative to a static root, as ``django.contrib.staticfiles`` finds it.
BASE_STYLESHEET = "css/pdf-base.css"


def local_url_fetcher(static_roots: Sequence[str | Path]) -> Any:
    """A WeasyPrint URL fetcher that reads shipped static files and refuses everything else
    (no network, no file outside ``static_roots``), without waiting on anything."""
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - WeasyPrint loads only where a PDF is rendered

    roots = [Path(root).resolve() for root in static_roots]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("file://"):
                raise ValueError(f"PDF resources are local files only, not {url[:40]!r}")
            path = Path(url.removeprefix("file://").split("?")[0].split("#")[0]).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError("PDF resources come from the static directory only")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols={"file"}, timeout=5)


def static_roots() -> list[Path]:
    """The folders static files are read from (the app's own, and the collected ones if set)."""
    roots = [Path(p).resolve() for p in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def static_file(name: str) -> Path:
    """The path of a shipped static file (e.g. a PDF stylesheet); ``FileNotFoundError`` if absent."""
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(name)
    return Path(str(found)).resolve()


def base_stylesheet_path() -> Path:
    """The stylesheet base every PDF stylesheet imports."""
    return static_file(BASE_STYLESHEET)

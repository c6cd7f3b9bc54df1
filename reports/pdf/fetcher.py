"""PDF resources: where the shipped static files are, and a WeasyPrint URL fetcher that reads
them and nothing else. Shared by the report renderer and the receipt renderer
(``funds.receipts``). Django is imported inside the functions: the render workers import this
module without setting Django up."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def local_url_fetcher(static_roots: Sequence[str]):
    """A WeasyPrint URL fetcher that reads shipped static files and refuses everything else
    (no network, no file outside ``static_roots``), without waiting on anything."""
    from weasyprint.urls import URLFetcher

    roots = [Path(root).resolve() for root in static_roots]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("file://"):
                raise ValueError(f"PDF resources are local files only, not {url[:40]!r}")
            path = Path(url.removeprefix("file://").split("?")[0].split("#")[0]).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError("PDF resources come from the static directory only")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols={"file"}, timeout=5)


def static_roots() -> list[Path]:
    """The folders static files are read from (the app's own, and the collected ones if set)."""
    from django.conf import settings

    roots = [Path(p).resolve() for p in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def static_file(name: str) -> Path:
    """The path of a shipped static file (e.g. a PDF stylesheet); ``FileNotFoundError`` if absent."""
    from django.contrib.staticfiles import finders

    found = finders.find(name)
    if not found:
        raise FileNotFoundError(name)
    return Path(found).resolve()

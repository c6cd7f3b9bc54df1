"""Report PDF resources: a WeasyPrint URL fetcher that reads shipped static files only."""

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

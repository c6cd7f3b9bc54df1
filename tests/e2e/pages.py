"""The pages a browser sweep visits: each role's pages, found the way a person finds them.

Starting from a role's home, the sweep follows the links of the menu and of the page body
(same site, GET) breadth-first, and keeps one page per URL pattern (one case page, one bond, not
twenty), so that a new page reachable from the menu is swept without anyone listing it. The
Django admin, sign-out, downloads and feeds are left out (they are not pages a person reads here).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

# URL names (namespace:name) whose answer is not an HTML page to read, or that end the session.
SKIPPED_NAMES = frozenset(
    {
        "account_logout",
        "funds:donor-signout",
        "reports:report-progress",  # the progress bar's fragment, polled by the report page
    }
)
SKIPPED_PREFIXES = ("/admin/", "/static/", "/healthz", "/stripe/", "/i18n/")
SKIPPED_SUFFIXES = (".pdf", ".csv", ".ics", ".zip")
# Name fragments of views that answer files, not pages.
FILE_VIEW_WORDS = ("download", "attachment", "feed", "donor-receipt", "donor-statement")


@dataclass(frozen=True)
class Found:
    path: str  # with its query string, as linked
    pattern: str  # the URL pattern's name, with the names of its arguments


def pattern_of(path: str) -> str | None:
    """``namespace:name(arg,…)`` of a site path, or None when it is not one of ours to sweep."""
    split = urlsplit(path)
    if split.netloc or not split.path.startswith("/"):
        return None
    if split.path.startswith(SKIPPED_PREFIXES) or split.path.endswith(SKIPPED_SUFFIXES):
        return None
    try:
        match = resolve(split.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in SKIPPED_NAMES or any(word in name for word in FILE_VIEW_WORDS):
        return None
    return f"{name}({','.join(sorted(match.kwargs))})"


def sweep(start: str, visit: Callable[[str], list[str]], limit: int = 60) -> list[Found]:
    """Breadth-first from ``start``: the first page of each URL pattern found, each visited once
    by ``visit(path)`` (which loads the page, checks it, and returns the hrefs on it)."""
    first = pattern_of(start)
    assert first is not None, start
    seen = {first}
    queue = deque([Found(start, first)])
    visited: list[Found] = []
    while queue and len(visited) < limit:
        found = queue.popleft()
        visited.append(found)
        for href in visit(found.path):
            href = href.split("#", 1)[0]
            pattern = pattern_of(href) if href else None
            if pattern is not None and pattern not in seen:
                seen.add(pattern)
                queue.append(Found(href, pattern))
    return visited

"""The navigation registry: each app declares its own menu entries and the start pages of roles.

An app's ``AppConfig`` lists ``navigation`` (``NavEntry`` items) and ``start_pages`` (role
value → URL name). accounts' context processor and home page read them from here, so
accounts does not need to know the URL names of the apps above it. A URL name that does not
reverse is reported by the system check ``kernel.E001`` (``manage.py check``, run by the tests)
instead of being silently left out of the menu.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.apps import AppConfig, apps
from django.core import checks
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavEntry:
    """One menu entry: shown to the listed roles (role values, e.g. ``"attorney"``).

    Entries are ordered by ``weight``, then by app order in ``INSTALLED_APPS``, then as listed.
    """

    label: str | Promise
    url_name: str
    roles: frozenset[str]
    weight: int = 100


def _declaring_apps() -> Iterable[AppConfig]:
    return apps.get_app_configs()


def _navigation(config: AppConfig) -> Iterable[NavEntry]:
    entries: Iterable[NavEntry] = getattr(config, "navigation", ())
    return entries


def _start_pages(config: AppConfig) -> Mapping[str, str]:
    pages: Mapping[str, str] = getattr(config, "start_pages", {})
    return pages


def nav_entries() -> list[NavEntry]:
    """Every app's entries, in menu order."""
    ranked = []
    for app_index, config in enumerate(_declaring_apps()):
        for position, entry in enumerate(_navigation(config)):
            ranked.append(((entry.weight, app_index, position), entry))
    return [entry for _rank, entry in sorted(ranked, key=lambda item: item[0])]


def nav_entries_for(role: str) -> list[NavEntry]:
    return [entry for entry in nav_entries() if role in entry.roles]


def start_page(role: str) -> str | None:
    """The URL name where ``role``'s work starts, if an app claims one (else the accounts home)."""
    for config in _declaring_apps():
        url_name = _start_pages(config).get(role)
        if url_name:
            return url_name
    return None


@checks.register(checks.Tags.urls)
def check_navigation_urls(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Every declared menu entry and start page must name a URL that exists."""
    errors: list[checks.CheckMessage] = []
    for config in _declaring_apps():
        names = [entry.url_name for entry in _navigation(config)]
        names += list(_start_pages(config).values())
        for url_name in names:
            try:
                reverse(url_name)
            except NoReverseMatch:
                errors.append(
                    checks.Error(
                        f"{config.label} declares the menu or start page URL {url_name!r}, which does not reverse.",
                        hint="Fix the URL name in the app's AppConfig.navigation / start_pages.",
                        obj=config,
                        id="kernel.E001",
                    )
                )
    return errors

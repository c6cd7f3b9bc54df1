"""Each app declares its menu entries and start pages; a mistyped URL name is a check error."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import checks
from django.urls import reverse

from accounts.roles import Role
from kernel.navigation import NavEntry, check_navigation_urls, nav_entries_for, start_page

MENUS = {
    Role.INTAKE: ["New intake", "Cases", "Security"],
    Role.ATTORNEY: ["My day", "Cases", "Calendar", "Security"],
    Role.SUPERVISOR: [
        "Triage",
        "New intake",
        "Cases",
        "Workload",
        "Search",
        "Legal demands",
        "Erasure",
        "Reports",
        "Security",
    ],
    Role.FINANCE: [
        "Funds",
        "Disbursements",
        "Bonds",
        "Donations",
        "Disputes",
        "Payouts",
        "Parked Stripe events",
        "Reports",
        "Verify a file",
        "Security",
    ],
    Role.AUDITOR: [
        "Funds",
        "Ledger",
        "Donations",
        "Disbursements",
        "Bonds",
        "Access log",
        "Reports",
        "Verify a file",
        "Security",
    ],
    Role.ADMIN: ["Home", "Staff", "Access log", "Admin site", "Legal demands", "Read alerts", "Security"],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_menu_in_order(role):
    assert [str(entry.label) for entry in nav_entries_for(role.value)] == MENUS[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_the_menu_rendered_for_a_role_links_every_declared_entry(client_for, role):
    client = client_for(role)

    response = client.get(reverse("accounts:home"), follow=True)

    links = [item["url"] for item in response.context["nav_items"]]
    assert links == [reverse(entry.url_name) for entry in nav_entries_for(role.value)]


def test_start_pages_come_from_the_app_that_owns_the_page():
    assert start_page(Role.ATTORNEY) == "casework:dashboard"
    assert start_page(Role.FINANCE) == "funds:finance-home"
    assert start_page(Role.AUDITOR) == "reports:funds"
    assert start_page(Role.ADMIN) is None


def test_the_navigation_check_passes_for_the_declared_entries():
    assert check_navigation_urls() == []


def test_a_mistyped_url_name_is_a_system_check_error(monkeypatch):
    config = apps.get_app_config("funds")
    monkeypatch.setattr(
        config, "navigation", (*config.navigation, NavEntry("Typo", "funds:finance-hom", frozenset({Role.FINANCE})))
    )

    errors = check_navigation_urls()

    assert [(error.id, error.obj) for error in errors] == [("kernel.E001", config)]
    assert "funds:finance-hom" in errors[0].msg
    assert any(e.id == "kernel.E001" for e in checks.run_checks(tags=[checks.Tags.urls]))

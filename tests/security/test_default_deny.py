"""Default deny: every URL pattern, walked anonymously and as a user without a role."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Pages that are deliberately public. Anything else must send an anonymous visitor to sign-in
# (or answer 404).
PUBLIC = {
    "healthz",
    "set_language",
    "account_login",
    "account_logout",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_inactive",
    "account_confirm_login_code",
    "mfa_authenticate",
    # Donors: the public donation pages, Stripe's signed webhook, and the donor portal's sign-in.
    "donate",
    "donate-thanks",
    "stripe-webhook",
    "donor-start",
    "donor-code",
    "donor-signout",
    # A calendar app reads the feed with the secret token in its URL (unknown token: 404).
    "calendar-feed",
}
# Donor pages have their own door: without a donor session they send the visitor to /donor/.
DONOR_ONLY = {"donor-gifts", "donor-receipt", "donor-statement", "donor-recurring-cancel"}

SAMPLE_ARGS = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _sample_url(route: str) -> str:
    """A concrete URL for a route, with a sample value for each argument."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "sample", route)  # regex routes (allauth, the admin)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "x"), route)
    return "/" + route


def all_routes() -> list[tuple[str, str]]:
    return [(_sample_url(route), entry.name or route) for route, entry in _walk(get_resolver().url_patterns)]


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_every_url_sends_anonymous_visitors_to_sign_in_unless_public():
    client = Client()
    exposed = []
    for url, name in all_routes():
        response = client.get(url)
        if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
            response = client.get(response["Location"])
        if _to_sign_in(response) or response.status_code == 404:
            continue
        if name in DONOR_ONLY and response.status_code == 302 and response["Location"].startswith("/donor/"):
            continue
        if name not in PUBLIC:
            exposed.append((url, name, response.status_code))
    assert exposed == []


@pytest.mark.django_db
def test_public_allow_list_names_real_urls():
    names = {name for _url, name in all_routes()}
    assert names >= PUBLIC
    # Staff cannot create accounts: the sign-up page does not exist for anyone.
    response = Client().get("/accounts/signup/")
    assert _to_sign_in(response)


@pytest.mark.django_db
def test_user_without_role_reaches_no_staff_page(client_for):
    client = client_for(None)
    for url in ["/staff/", "/staff/invite/", f"/staff/{client.user.pk}/", "/access-log/"]:
        assert client.get(url).status_code == 404, url
    home = client.get("/")
    assert home.status_code == 200
    assert "No role yet" in home.content.decode()


@pytest.mark.django_db
def test_admin_site_is_for_administrators_only(client_for):
    from accounts.roles import Role

    anonymous = Client().get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    for role in [Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR, Role.FINANCE, Role.AUDITOR]:
        response = client_for(role).get("/admin/", follow=True)
        assert response.status_code == 404, role
    response = client_for(Role.ADMIN).get("/admin/")
    assert response.status_code == 200
    assert "Amparo administration" in response.content.decode()

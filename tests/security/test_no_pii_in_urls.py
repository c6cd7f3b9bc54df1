"""Searching never puts a name or an A-number in a URL (access logs, proxies, browser history).

Search forms are POSTed (with the CSRF token); the words are kept in the session, encrypted, under
a random token, and the results come back as ``?s=<token>``. A ``?q=`` in a URL is not honoured.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services
from casework.models import DetentionFacility
from casework.views.search import SEARCH_SESSION_KEY
from funds.models import Donation, Donor, Fund
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAME = "Wenceslao Quiñónez-Tlapa"
A_NUMBER = "A-204-618-337"
# Ways the person could appear in a URL: the name's parts (accented or not, escaped or not) and
# the A-number's digits in the usual groupings. (Long enough never to turn up in a random token.)
LEAKS = (
    "wenceslao",
    "quinonez",
    "quiñ",
    "qui%c3%b1",
    "tlapa",
    "204618337",
    "204-618",
    "204+618",
    "204%20618",
    "618-337",
)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR)


@pytest.fixture
def person_case(supervisor):
    data = services.IntakeData(
        given_names="Wenceslao",
        family_names="Quiñónez-Tlapa",
        a_number="204618337",
        date_of_birth=date(1988, 3, 9),
        facility=DetentionFacility.objects.order_by("code").first(),
    )
    return services.case_register(data=data, by=supervisor)


def _urls_in(html: str) -> list[str]:
    """Every URL a page can send the browser to: links, form actions, htmx requests."""
    return [unescape(u) for u in re.findall(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"', html)]


def _leaks(url: str) -> list[str]:
    return [part for part in LEAKS if part.lower() in url.lower()]


@pytest.mark.parametrize("url_name", ["casework:search", "casework:case-list"])
@pytest.mark.parametrize("words", [NAME, "quinonez tlapa", A_NUMBER, "204618337"])
def test_a_search_answers_with_a_token_and_no_words_in_any_url(supervisor, person_case, url_name, words):
    client = _client(supervisor)

    response = client.post(reverse(url_name), {"q": words})

    assert response.status_code == 303
    location = response["Location"]
    assert _leaks(location) == []
    assert set(parse_qs(urlsplit(location).query)) == {"s"}
    page = client.get(location)
    html = page.content.decode()
    assert page.status_code == 200
    assert person_case.number in html
    assert [url for url in _urls_in(html) if _leaks(url)] == []


def test_the_search_forms_are_posted_with_the_csrf_token(supervisor, person_case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    for url_name in ("casework:search", "casework:case-list"):
        html = client.get(reverse(url_name)).content.decode()
        form = re.search(rf'<form method="post" action="{reverse(url_name)}"[^>]*>(.*?)</form>', html, re.S)
        assert form is not None, url_name
        assert 'name="csrfmiddlewaretoken"' in form.group(1) and 'name="q"' in form.group(1)
        assert client.post(reverse(url_name), {"q": NAME}).status_code == 403  # no token: refused


@pytest.mark.parametrize(
    ("url_name", "query", "expected"),
    [
        ("casework:search", f"q={NAME}", "/search/"),
        ("casework:case-list", f"q={A_NUMBER}&status=triage&sort=number", "/cases/?status=triage&sort=number"),
        ("casework:case-list", "q=Wenceslao", "/cases/"),
    ],
)
def test_a_search_in_the_url_is_not_honoured(supervisor, person_case, url_name, query, expected):
    response = _client(supervisor).get(f"{reverse(url_name)}?{query}")

    assert response.status_code == 302
    assert response["Location"] == expected


def test_search_results_page_through_without_the_words(supervisor, facility_for_many):
    client = _client(supervisor)
    numbers = facility_for_many(27, family_names="Xochicale")

    first = client.post(reverse("casework:case-list"), {"q": "xochicale", "sort": "number"})
    location = first["Location"]
    page_one = client.get(location).content.decode()
    next_links = [
        urljoin(location, u) for u in _urls_in(page_one) if "after=" in u
    ]  # the "Next" link (keyset: after the last row)
    page_two = client.get(next_links[0]).content.decode()

    assert _leaks(location) == [] and "xochicale" not in location.lower()
    assert next_links and all("xochicale" not in u.lower() and "s=" in u for u in next_links)
    assert numbers[0] in page_one and numbers[24] in page_one and numbers[25] not in page_one
    assert numbers[25] in page_two and numbers[26] in page_two and numbers[0] not in page_two


def test_the_filters_keep_the_search_and_the_search_keeps_the_filters(supervisor, facility_for_many):
    client = _client(supervisor)
    numbers = facility_for_many(2, family_names="Xochicale")
    (elsewhere,) = facility_for_many(1, family_names="Otárola")

    location = client.post(reverse("casework:case-list"), {"q": "xochicale", "status": "triage"})["Location"]
    page = client.get(location).content.decode()
    token = parse_qs(urlsplit(location).query)["s"][0]

    assert parse_qs(urlsplit(location).query) == {"s": [token], "status": ["triage"]}
    assert all(number in page for number in numbers) and elsewhere not in page
    assert f'name="s" value="{token}"' in page  # the filter form sends the search on
    assert '<input type="hidden" name="status" value="triage">' in page  # the search form the filters


def test_a_token_belongs_to_its_session_and_expires(supervisor, person_case, settings):
    settings.SEARCH_TOKEN_SECONDS = 60
    owner = _client(supervisor)
    location = owner.post(reverse("casework:search"), {"q": NAME})["Location"]

    stranger = _client(UserFactory(role=Role.SUPERVISOR)).get(location).content.decode()
    session = owner.session
    kept = session[SEARCH_SESSION_KEY]
    for entry in kept.values():
        entry[0] -= 61
    session[SEARCH_SESSION_KEY] = kept
    session.save()
    expired = owner.get(location).content.decode()

    assert person_case.number not in stranger and 'id="search-expired"' in stranger
    assert person_case.number not in expired and 'id="search-expired"' in expired


def test_the_session_keeps_the_words_encrypted(supervisor, person_case):
    client = _client(supervisor)
    client.post(reverse("casework:search"), {"q": NAME})
    client.post(reverse("casework:case-list"), {"q": A_NUMBER})

    stored = Session.objects.get(session_key=client.session.session_key)
    decoded = str(stored.get_decoded())

    assert SEARCH_SESSION_KEY in decoded
    assert [part for part in ("Wenceslao", "Tlapa", "204618337") if part in decoded + stored.session_data] == []


def test_a_too_long_search_is_a_form_error_not_a_500(supervisor):
    client = _client(supervisor)

    for url_name in ("casework:search", "casework:case-list"):
        response = client.post(reverse(url_name), {"q": "x" * 10_000})
        assert response.status_code == 422, url_name
        assert "at most 100 characters" in response.content.decode()


def test_the_donor_search_is_posted_too(db):
    donor = Donor.objects.create(email="zenaida.quispe@example.org", name="Zenaida Quispe")
    other = Donor.objects.create(email="someone@example.org", name="Someone Else")
    fund = Fund.objects.get(slug="general")
    Donation.objects.create(donor=donor, fund=fund, amount_cents=1234, status="paid", receipt_number="R-1")
    Donation.objects.create(donor=other, fund=fund, amount_cents=5678, status="paid", receipt_number="R-2")
    client = _client(UserFactory(role=Role.FINANCE))

    response = client.post(reverse("funds:donation-list"), {"q": "zenaida.quispe@example.org", "status": "paid"})
    location = response["Location"]
    page = client.get(location).content.decode()
    kept_out = client.get(reverse("funds:donation-list") + "?q=zenaida&status=paid")

    assert response.status_code == 303
    assert "zenaida" not in location.lower() and "quispe" not in location.lower()
    assert parse_qs(urlsplit(location).query).keys() == {"s", "status"}
    assert "$12.34" in page and "$56.78" not in page
    assert [u for u in _urls_in(page) if "zenaida" in u.lower()] == []
    assert (kept_out.status_code, kept_out["Location"]) == (302, "/finance/donations/?status=paid")


@pytest.fixture
def facility_for_many(supervisor):
    """``make(n, family_names=...)`` registers ``n`` people of that family name; their case numbers, in order."""

    def make(n: int, *, family_names: str) -> list[str]:
        facility = DetentionFacility.objects.order_by("code").first()
        return [
            services.case_register(
                data=services.IntakeData(given_names=f"Persona{i}", family_names=family_names, facility=facility),
                by=supervisor,
            ).number
            for i in range(n)
        ]

    return make

"""A request whose database connection dies: never a false "failed", never the 500 page, nothing typed lost.

The fault is real: another connection kills the request's PostgreSQL backend
(``pg_terminate_backend``) at the chosen moment, so the next query of the request fails as it would
in production when the database restarts or a backend is killed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import psycopg
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.roles import Role
from casework import services
from casework.models import Case, DetentionFacility
from kernel.once import ONCE_FIELD
from kernel.retry import TRANSIENT_ERRORS
from kernel.unconfirmed import UnconfirmedMiddleware
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "given_names": "Rosa Elvira",
    "family_names": "Quintanilla",
    "date_of_birth": "1988-02-03",
    "country_of_birth": "El Salvador",
    "languages": "Spanish",
    "detained_on": "2026-11-28",
    "custodian": "ice",
}


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("kills PostgreSQL backends (CI runs on PostgreSQL)")


def kill_my_backend() -> None:
    """Terminate this thread's PostgreSQL backend from a second connection: the next query fails."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"], autocommit=True
    ) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


class KillAfterView:
    """Test-only middleware just inside the session middleware: kills the backend once the view has
    answered a POST, so the session save that follows meets a dead connection."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "POST":
            kill_my_backend()
        return response


@pytest.fixture
def facility():
    return DetentionFacility.objects.order_by("code").first()


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.INTAKE))
    return client


def hidden_fields(page: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page):
        fields.setdefault(html.unescape(name), []).append(html.unescape(value))
    return fields


def test_a_committed_intake_is_reported_as_saved_when_the_session_save_meets_a_dead_connection(
    client, facility, settings
):
    position = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:position],
        f"{__name__}.KillAfterView",
        *settings.MIDDLEWARE[position:],
    ]

    response = client.post(reverse("casework:intake"), once({**FORM, "facility": facility.pk}))

    case = Case.objects.get()
    assert response.status_code == 302  # Django's store said 400 "Bad request" here
    assert response["Location"] == reverse("casework:case-detail", args=[case.number])
    assert client.get(response["Location"]).status_code == 200  # still signed in: the session was saved


def test_a_transaction_killed_mid_intake_keeps_what_was_typed_and_sending_again_registers_once(
    client, facility, monkeypatch
):
    register = services.case_register

    def register_then_lose_the_connection(**kwargs):
        case = register(**kwargs)
        kill_my_backend()
        Case.objects.filter(pk=case.pk).exists()  # the next query of the transaction: OperationalError
        return case

    monkeypatch.setattr(services, "case_register", register_then_lose_the_connection)
    data = once({**FORM, "facility": facility.pk})

    response = client.post(reverse("casework:intake"), data)

    assert response.status_code == 503
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "We could not confirm that this was saved" in page
    assert "Sending it again is safe" in page  # the form carries a one-time key
    kept = hidden_fields(page)
    assert kept["given_names"] == ["Rosa Elvira"]
    assert kept[ONCE_FIELD] == [data[ONCE_FIELD]]
    assert Case.objects.count() == 0  # the transaction died before its commit: nothing half-written

    monkeypatch.setattr(services, "case_register", register)
    again = {name: values[0] for name, values in kept.items() if name != "csrfmiddlewaretoken"}
    saved = client.post(reverse("casework:intake"), again)
    case = Case.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("casework:case-detail", args=[case.number])

    repeated = client.post(reverse("casework:intake"), again, follow=True)
    assert Case.objects.count() == 1
    assert "had already been sent" in repeated.content.decode()


def test_a_page_whose_connection_dies_answers_a_plain_503_not_the_500_page(client, monkeypatch):
    from casework import selectors

    case_list = selectors.case_list

    def list_then_lose_the_connection(*args, **kwargs):
        kill_my_backend()
        return case_list(*args, **kwargs)

    monkeypatch.setattr(selectors, "case_list", list_then_lose_the_connection)

    response = client.get(reverse("casework:case-list"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.content.decode()
    monkeypatch.setattr(selectors, "case_list", case_list)
    assert client.get(reverse("casework:case-list")).status_code == 200  # the next request reconnects


def test_psycopgs_own_lost_connection_error_is_a_lost_connection_too():
    """Form choices and ``iterator()`` read through a server-side cursor, and Django does not wrap its
    ``close()``: a backend killed while a page renders its choices raised psycopg's own
    ``AdminShutdown`` (seen in bench/drills/mixed_load.py). It is still a lost connection: a 503
    "could not confirm", not the 500 page, and a task retries it."""
    lost = psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    response = UnconfirmedMiddleware(lambda request: HttpResponse()).process_exception(request, lost)

    assert response is not None and response.status_code == 503
    assert isinstance(lost, TRANSIENT_ERRORS)


def test_other_errors_are_left_to_the_500_handler():
    assert UnconfirmedMiddleware(lambda request: HttpResponse()).process_exception(HttpRequest(), ValueError()) is None

"""The legal-demand log: who asked for the records, what was asked, what counsel did, and the hold it puts
on the cases it concerns. For administrators and supervising attorneys only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from casework.models import DemandKind, DemandSource, DemandStatus, LegalDemand
from casework.selectors_oversight import cases_on_legal_hold
from casework.services import oversight
from kernel.clock import fund_time_zone
from tests.factories import UserFactory
from tests.forms import once, version
from tests.personas import ADMIN, PERSONAS, SUPERVISOR, outcome, staff_page

pytestmark = pytest.mark.django_db

OVERSIGHT = {ADMIN, SUPERVISOR}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _record(by, cases=(), **overrides) -> LegalDemand:
    fields = {
        "received_at": timezone.now() - timedelta(hours=2),
        "received_how": "served in person at the front desk",
        "source": DemandSource.ICE,
        "source_detail": "ICE ERO Phoenix, Officer R. Smith #4411",
        "kind": DemandKind.ADMIN_SUBPOENA,
        "asked": "All records about the client of case 2026-00001 since January.",
        "respond_by": timezone.localdate() + timedelta(days=10),
        "counsel": "Lee & Park LLP",
        "cases": list(cases),
        "by": by,
    }
    fields.update(overrides)
    return oversight.legal_demand_record(**fields)


def _form(**overrides) -> dict[str, str]:
    today = timezone.localdate()
    data = {
        "received_on": today.isoformat(),
        "received_time": "00:05",
        "received_how": "by fax",
        "source": DemandSource.POLICE,
        "source_detail": "County Sheriff, Detective Ruiz",
        "kind": DemandKind.INFORMAL,
        "asked": "Whether the fund represents a named person.",
        "respond_by": (today + timedelta(days=7)).isoformat(),
        "counsel": "In-house counsel",
        "cases": "",
    }
    data.update(overrides)
    return once(data)


# --- Who may see the log ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("legal-demand-list", staff_page(OVERSIGHT, 200, 405)),
        ("legal-demand-new", staff_page(OVERSIGHT, 200, 422)),
        ("legal-demand-detail", staff_page(OVERSIGHT, 200, 422)),
    ],
)
def test_legal_demand_pages_are_for_administrators_and_supervisors_only(personas, name, expected):
    demand = _record(personas.user(SUPERVISOR), cases=[personas.case])
    kwargs = {"reference": demand.reference} if name == "legal-demand-detail" else {}
    url = reverse(f"casework:{name}", kwargs=kwargs)

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == expected


def test_an_unknown_reference_is_404(client_for):
    assert (
        client_for(Role.SUPERVISOR).get(reverse("casework:legal-demand-detail", args=["LD-2026-999"])).status_code
        == 404
    )


# --- The reference --------------------------------------------------------------------------------


def test_references_count_up_per_year(supervisor):
    year = timezone.localdate().year

    first, second = _record(supervisor), _record(supervisor)

    assert (first.reference, second.reference) == (f"LD-{year}-001", f"LD-{year}-002")


def test_a_new_year_starts_again_at_one_and_a_thousandth_follows_the_999th(supervisor):
    year = timezone.localdate().year
    LegalDemand.objects.create(reference=f"LD-{year - 1}-041", recorded_by=supervisor, **_bare())
    LegalDemand.objects.create(reference=f"LD-{year}-999", recorded_by=supervisor, **_bare())
    # "LD-…-999" sorts after "LD-…-1000" as text; the counter must not go back to it.
    LegalDemand.objects.create(reference=f"LD-{year}-1000", recorded_by=supervisor, **_bare())

    assert _record(supervisor).reference == f"LD-{year}-1001"


def _bare() -> dict:
    return {
        "received_at": timezone.now(),
        "received_how": "mail",
        "source": DemandSource.COURT,
        "source_detail": "Superior Court",
        "kind": DemandKind.COURT_ORDER,
        "asked": "records",
    }


@pytest.mark.django_db(transaction=True)
def test_demands_recorded_at_the_same_moment_each_get_their_own_reference():
    supervisor = UserFactory(role=Role.SUPERVISOR)
    start = threading.Barrier(4)
    references, errors = [], []

    def record() -> None:
        try:
            start.wait()
            for _ in range(2):
                references.append(_record(supervisor).reference)
        except Exception as exc:  # noqa: BLE001 - collected, so that the test reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    year = timezone.localdate().year
    assert errors == []
    assert sorted(references) == [f"LD-{year}-{n:03d}" for n in range(1, 9)]


# --- Recording one --------------------------------------------------------------------------------


def test_recording_a_demand_by_case_numbers_puts_the_cases_on_hold_and_logs_no_content(
    assigned_case, register_case, intake_worker, supervisor
):
    other = register_case(by=intake_worker, a_number="098765432", given_names="Otra", family_names="Parra-Sosa")
    client = _client(supervisor)

    response = client.post(
        reverse("casework:legal-demand-new"), _form(cases=f"{assigned_case.number}, {other.number}\n{other.number}")
    )

    demand = LegalDemand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:legal-demand-detail", args=[demand.reference])
    assert sorted(demand.cases.values_list("number", flat=True)) == sorted([assigned_case.number, other.number])
    assert demand.status == DemandStatus.RECEIVED
    assert timezone.localtime(demand.received_at, fund_time_zone()).strftime("%H:%M") == "00:05"
    assert set(cases_on_legal_hold()) == {assigned_case.pk, other.pk}
    event = AccessEvent.objects.get(object_type="legal_demand")
    assert (event.user, event.action, event.object_ref) == (supervisor, "change", demand.reference)
    assert event.detail == "recorded: informal from police, 2 case(s)"
    assert "named person" not in event.detail


def test_an_administrator_records_a_demand_too(client_for):
    response = client_for(Role.ADMIN).post(reverse("casework:legal-demand-new"), _form())

    assert response.status_code == 302
    assert LegalDemand.objects.get().recorded_by.groups.get().name == Role.ADMIN


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cases", "José Hernández", "Enter case numbers only (like 2026-00042), separated by commas; not names."),
        ("cases", "2026-99999", "No case has the number 2026-99999."),
        ("received_on", "9999-12-31", "Choose a day between"),
        ("received_on", "0001-01-01", "Choose a day between"),
        ("received_on", "31/12/2026", "Enter a valid date."),
        ("respond_by", "9999-12-31", "Choose a day between"),
        ("respond_by", "2000-01-01", "The response cannot be due before the demand was received."),
        ("received_how", "", "This field is required."),
        ("asked", "x" * 5001, "Ensure this value has at most 5000 characters"),
        ("kind", "friendly_chat", "Select a valid choice."),
    ],
)
def test_a_demand_with_bad_input_is_refused_with_the_reason(client_for, field, value, message):
    response = client_for(Role.SUPERVISOR).post(reverse("casework:legal-demand-new"), _form(**{field: value}))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not LegalDemand.objects.exists()


def test_a_demand_cannot_be_recorded_before_it_arrives(client_for):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client_for(Role.SUPERVISOR).post(reverse("casework:legal-demand-new"), _form(received_on=tomorrow))

    assert response.status_code == 422
    assert "A demand is recorded once it has been received." in response.content.decode()


def test_the_service_refuses_a_demand_from_the_future(supervisor):
    with pytest.raises(ValidationError) as raised:
        _record(supervisor, received_at=timezone.now() + timedelta(hours=1))

    assert raised.value.message_dict == {"received_on": ["A demand is recorded once it has been received."]}


# --- The checklist --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["legal-demand-list", "legal-demand-new"])
def test_the_checklist_is_on_the_log_and_on_the_new_demand_page(client_for, name):
    page = client_for(Role.SUPERVISOR).get(reverse(f"casework:{name}")).content.decode()

    assert "When a demand arrives" in page
    assert "Do not answer questions, consent to a search or hand anything over on the spot." in page
    assert "Notify counsel the same day" in page
    assert "An administrative subpoena (8 CFR 287.4) is issued by an immigration officer" in page
    assert (
        "An administrative warrant (ICE Forms I-200 and I-205) is signed by an immigration officer, not a judge" in page
    )
    assert "on legal hold while it is open" in page
    assert "attorney (the demand" in page  # "Tell each client's attorney"
    assert "Produce only what counsel approves" in page


def test_the_checklist_is_in_spanish_for_a_spanish_reader(client_for):
    client = client_for(Role.SUPERVISOR)
    assert client.post("/i18n/setlang/", {"language": "es", "next": "/"}).status_code == 302

    page = client.get(reverse("casework:legal-demand-list")).content.decode()

    assert "Cuando llega un requerimiento" in page
    assert "8 CFR 287.4" in page


# --- The list -------------------------------------------------------------------------------------


def test_the_log_lists_open_demands_first_with_the_response_due(supervisor):
    answered = _record(supervisor, respond_by=None)
    oversight.legal_demand_update(
        demand=answered,
        status=DemandStatus.ANSWERED,
        counsel="",
        counsel_notified_at=None,
        response="Objected.",
        produced="",
        by=supervisor,
    )
    late = _record(
        supervisor, received_at=timezone.now() - timedelta(days=20), respond_by=timezone.localdate() - timedelta(days=1)
    )
    soon = _record(supervisor)

    page = _client(supervisor).get(reverse("casework:legal-demand-list")).content.decode()

    order = [page.index(demand.reference) for demand in (late, soon, answered)]
    assert order == sorted(order)
    rows = {demand.reference: _row(page, demand.reference) for demand in (late, soon, answered)}
    assert "overdue" in rows[late.reference]
    assert "overdue" not in rows[soon.reference]
    assert "Answered" in rows[answered.reference]


def _row(page: str, reference: str) -> str:
    """The table row of the demand ``reference``."""
    start = page.index(f">{reference}</a>")
    return page[page.rindex("<tr>", 0, start) : page.index("</tr>", start)]


def test_the_log_costs_the_same_queries_for_one_demand_or_three(supervisor, assigned_case):
    client = _client(supervisor)
    _record(supervisor, cases=[assigned_case])
    client.get(reverse("casework:legal-demand-list"))  # the session's first request costs more
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("casework:legal-demand-list"))
    _record(supervisor, cases=[assigned_case])
    _record(supervisor)
    with CaptureQueriesContext(connection) as three:
        response = client.get(reverse("casework:legal-demand-list"))

    assert response.content.decode().count("LD-") >= 3
    assert len(three) == len(one)


# --- The demand's page: what followed -------------------------------------------------------------


def test_the_demand_page_names_the_attorneys_to_tell_and_not_the_client(assigned_case, supervisor, attorney):
    demand = _record(supervisor, cases=[assigned_case])

    page = _client(supervisor).get(reverse("casework:legal-demand-detail", args=[demand.reference])).content.decode()

    assert assigned_case.number in page
    assert attorney.full_name in page
    assert "Hernández" not in page
    assert "on legal hold" in page
    assert "Counsel has not been recorded as notified" in page
    assert (
        AccessEvent.objects.filter(action="view", object_type="legal_demand", object_ref=demand.reference).count() == 1
    )


def test_recording_what_followed_logs_which_fields_changed_never_their_text(supervisor, assigned_case):
    demand = _record(supervisor, cases=[assigned_case])
    url = reverse("casework:legal-demand-detail", args=[demand.reference])
    today = timezone.localdate().isoformat()

    client = _client(supervisor)
    response = client.post(
        url,
        version(
            client,
            url,
            {
                "status": DemandStatus.UNDER_REVIEW,
                "counsel": "Lee & Park LLP",
                "counsel_notified_on": today,
                "counsel_notified_time": timezone.localtime(timezone.now(), fund_time_zone()).strftime("%H:%M"),
                "response": "",
                "produced": "Nothing yet.",
            },
        ),
    )

    demand.refresh_from_db()
    assert response.status_code == 302
    assert demand.status == DemandStatus.UNDER_REVIEW
    assert demand.counsel_notified_at is not None
    assert demand.produced == "Nothing yet."
    change = AccessEvent.objects.filter(object_type="legal_demand", action="change").order_by("-id").first()
    assert change.detail == "changed: status received -> under_review, counsel_notified_at, produced"
    assert assigned_case.pk in set(cases_on_legal_hold())
    history = _client(supervisor).get(url).content.decode()
    assert "changed: status received -&gt; under_review" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": DemandStatus.ANSWERED, "response": ""}, "Record the response before marking the demand answered."),
        ({"counsel_notified_on": "2001-01-01"}, "Counsel cannot have been told before the demand was received."),
        ({"counsel_notified_time": "10:00"}, "Give the day counsel was notified."),
        ({"counsel_notified_on": "9999-12-31"}, "Choose a day between"),
        ({"status": "lost"}, "Select a valid choice."),
    ],
)
def test_what_followed_is_checked(supervisor, data, message):
    demand = _record(supervisor)
    form = {"status": DemandStatus.UNDER_REVIEW, "counsel": "", "response": "", "produced": "", **data}
    client = _client(supervisor)
    url = reverse("casework:legal-demand-detail", args=[demand.reference])

    response = client.post(url, version(client, url, form))

    assert response.status_code == 422
    assert message in response.content.decode()
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RECEIVED


def test_what_followed_recorded_meanwhile_by_someone_else_is_not_overwritten(supervisor):
    """Two supervisors open the same demand; the second to save an old form gets a 409 naming what
    changed, and the first one's record stays."""
    demand = _record(supervisor)
    url = reverse("casework:legal-demand-detail", args=[demand.reference])
    first, second = _client(supervisor), _client(UserFactory(role=Role.SUPERVISOR))
    blank = {"status": DemandStatus.RECEIVED, "counsel": "", "response": "", "produced": ""}
    first_form, second_form = version(first, url, blank), version(second, url, blank)

    saved = first.post(url, {**first_form, "status": DemandStatus.UNDER_REVIEW, "counsel": "Lee & Park LLP"})
    stale = second.post(url, {**second_form, "counsel": "In-house counsel"})

    assert saved.status_code == 302
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Someone else changed this record after you opened the form" in page
    assert "Lee &amp; Park LLP" in page
    demand.refresh_from_db()
    assert (demand.status, demand.counsel) == (DemandStatus.UNDER_REVIEW, "Lee & Park LLP")


def test_saving_without_a_change_writes_no_log_row(supervisor):
    demand = _record(supervisor)
    before = AccessEvent.objects.filter(action="change").count()

    oversight.legal_demand_update(
        demand=demand,
        status=demand.status,
        counsel=demand.counsel,
        counsel_notified_at=None,
        response="",
        produced="",
        by=supervisor,
    )

    assert AccessEvent.objects.filter(action="change").count() == before


# --- Legal hold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "held"),
    [
        (DemandStatus.RECEIVED, True),
        (DemandStatus.UNDER_REVIEW, True),
        (DemandStatus.CHALLENGED, True),
        (DemandStatus.ANSWERED, False),
        (DemandStatus.WITHDRAWN, False),
        (DemandStatus.CLOSED, False),
    ],
)
def test_a_case_is_on_legal_hold_while_a_demand_about_it_is_open(supervisor, assigned_case, status, held):
    demand = _record(supervisor, cases=[assigned_case])
    oversight.legal_demand_update(
        demand=demand, status=status, counsel="", counsel_notified_at=None, response="Done.", produced="", by=supervisor
    )

    assert (assigned_case.pk in set(cases_on_legal_hold())) is held


def test_a_closed_demand_does_not_release_a_case_another_open_demand_holds(
    supervisor, assigned_case, register_case, intake_worker
):
    untouched = register_case(by=intake_worker, a_number="087654321")
    closed = _record(supervisor, cases=[assigned_case, untouched])
    _record(supervisor, cases=[assigned_case])
    oversight.legal_demand_update(
        demand=closed,
        status=DemandStatus.CLOSED,
        counsel="",
        counsel_notified_at=None,
        response="",
        produced="",
        by=supervisor,
    )

    assert list(cases_on_legal_hold()) == [assigned_case.pk]


# --- Exports made to answer a demand --------------------------------------------------------------


def test_an_export_may_be_marked_for_an_open_demand_only(supervisor):
    open_demand = _record(supervisor)
    closed = _record(supervisor)
    oversight.legal_demand_update(
        demand=closed,
        status=DemandStatus.WITHDRAWN,
        counsel="",
        counsel_notified_at=None,
        response="",
        produced="",
        by=supervisor,
    )

    assert oversight.legal_demand_for_export("") is None
    assert oversight.legal_demand_for_export(f" {open_demand.reference.lower()} ") == open_demand
    assert oversight.export_detail(open_demand) == f"for legal demand {open_demand.reference}"
    with pytest.raises(ValidationError) as unknown:
        oversight.legal_demand_for_export("LD-1999-001")
    with pytest.raises(ValidationError) as not_open:
        oversight.legal_demand_for_export(closed.reference)
    assert unknown.value.messages == ["No legal demand has the reference LD-1999-001."]
    assert not_open.value.messages == [
        f"Legal demand {closed.reference} is withdrawn: exports are made only for an open demand."
    ]


def test_the_demand_history_shows_the_exports_made_to_answer_it(supervisor):
    demand = _record(supervisor)
    finance = UserFactory(role=Role.FINANCE)
    AccessEvent.objects.create(
        user=finance,
        action="export",
        object_type="report",
        object_ref="7",
        detail=f"fund_statement 2026-01-01..2026-01-31 all funds {oversight.export_detail(demand)}",
    )
    AccessEvent.objects.create(
        user=finance, action="export", object_type="report", object_ref="8", detail="fund_statement"
    )

    page = _client(supervisor).get(reverse("casework:legal-demand-detail", args=[demand.reference])).content.decode()

    assert f"for legal demand {demand.reference}" in page
    assert "report 7" in page
    assert "report 8" not in page


def test_the_cases_field_accepts_any_separator_and_refuses_too_many(client_for, assigned_case):
    numbers = " ; ".join(f"2026-{n:05d}" for n in range(1, 202))

    response = client_for(Role.SUPERVISOR).post(reverse("casework:legal-demand-new"), _form(cases=numbers))

    assert response.status_code == 422
    assert "At most 200 cases per demand" in response.content.decode()


def test_menu_offers_the_log_to_administrators_and_supervisors_only(client_for):
    url = reverse("casework:legal-demand-list")
    for role in Role:
        page = client_for(role).get("/", follow=True).content.decode()
        assert (f'href="{url}"' in page) is (role in (Role.ADMIN, Role.SUPERVISOR)), role

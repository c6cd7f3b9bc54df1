"""``seed_scale``: the bulk-loaded network is data the app works with, grown in place, never over real data."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent, User
from accounts.roles import Role
from casework.identity import format_a_number
from casework.models import Assignment, Case, CaseStatus, CaseUserObjectPermission, Detainee, DetaineeNameKey
from casework.permissions import cases_visible_to
from casework.selectors import case_list, search_case_ids
from demo.scale.staff import SEEDED_DOMAIN
from funds.models import Donation, Posting, Transaction
from funds.selectors import ledger_mismatches, unbalanced_transactions

pytestmark = pytest.mark.django_db

SMALL = {"cases": 300, "attorneys": 10, "access_events": 2000, "donations": 100, "chunk": 120, "check": 50}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_scale", stdout=out, **{**SMALL, "seed": 5, **options})
    return out.getvalue()


@pytest.fixture
def seeded(settings) -> str:
    settings.DEBUG = True
    return seed()


def staff(role: Role) -> User:
    return User.objects.filter(groups__name=role.value).order_by("pk").first()


def person_with_everything() -> Detainee:
    """A seeded person with an A-number and a birth date, and the cases registered for them."""
    return next(p for p in Detainee.objects.order_by("pk") if p.a_number and p.date_of_birth)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_seed_scale_fills_every_table_the_services_write(seeded):
    assert Case.objects.count() == 300
    assert User.objects.filter(groups__name="attorney").count() == 10
    assert AccessEvent.objects.count() == 2000
    assert Donation.objects.count() == 100
    assert {"active", "closed"} <= set(Case.objects.values_list("status", flat=True)) <= {"triage", "active", "closed"}
    assert Assignment.objects.filter(ended_at__isnull=False, case__status=CaseStatus.ACTIVE).exists()  # history
    assert Case.objects.filter(hearings__isnull=False, deadlines__isnull=False, events__isnull=False).exists()
    assert DetaineeNameKey.objects.count() >= Detainee.objects.count()
    assert not User.objects.exclude(email__endswith=f"@{SEEDED_DOMAIN}").exists()
    assert "300 cases (300 added)" in seeded


def test_the_workload_counts_match_the_seeded_assignments(seeded):
    for attorney in User.objects.filter(groups__name="attorney"):
        open_cases = Assignment.objects.filter(attorney=attorney, ended_at__isnull=True).exclude(
            case__status=CaseStatus.CLOSED
        )
        assert attorney.caseload.active_cases == open_cases.count()
        assert attorney.caseload.lead_cases == open_cases.filter(role="lead").count()


def test_a_seeded_person_is_found_by_name_and_by_a_number_in_the_supervisors_case_list(seeded):
    person = person_with_everything()
    theirs = set(Case.objects.filter(detainee=person).values_list("pk", flat=True))
    supervisor = staff(Role.SUPERVISOR)

    by_name = case_list(supervisor, q=f"{person.given_names} {person.family_names}")
    by_a_number = case_list(supervisor, q=format_a_number(person.a_number))

    assert theirs <= set(by_name.values_list("pk", flat=True))
    assert set(by_a_number.values_list("pk", flat=True)) == theirs
    assert set(search_case_ids(person.a_number).values_list("pk", flat=True)) == theirs


def test_the_live_duplicate_check_finds_a_seeded_person(seeded):
    person = person_with_everything()
    number = Case.objects.filter(detainee=person).values_list("number", flat=True).first()
    intake = signed_in(staff(Role.INTAKE))
    url = reverse("casework:intake-check")

    same_a_number = intake.post(url, {"a_number": format_a_number(person.a_number)}, HTTP_HX_REQUEST="true")
    same_name_and_birth = intake.post(
        url,
        {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "date_of_birth": person.date_of_birth.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )

    assert same_a_number.status_code == same_name_and_birth.status_code == 200
    assert number in same_a_number.content.decode()
    assert "same A-number" in same_a_number.content.decode()
    assert number in same_name_and_birth.content.decode()


def test_an_attorney_sees_exactly_the_cases_they_are_assigned_to(seeded):
    open_pairs = set(Assignment.objects.filter(ended_at__isnull=True).values_list("attorney_id", "case_id"))
    guardian = CaseUserObjectPermission.objects.values("user_id", "content_object_id")
    for codename in ("view_case", "change_case"):
        granted = guardian.filter(permission__codename=codename).values_list("user_id", "content_object_id")
        assert set(granted) == open_pairs
    for attorney in User.objects.filter(groups__name="attorney"):
        assigned = {case for user, case in open_pairs if user == attorney.pk}
        assert set(cases_visible_to(attorney).values_list("pk", flat=True)) == assigned
    busiest = max(User.objects.filter(groups__name="attorney"), key=lambda a: len(cases_visible_to(a)))
    theirs = cases_visible_to(busiest).select_related("detainee").first()
    other = Case.objects.exclude(pk__in=cases_visible_to(busiest)).first()

    page = signed_in(busiest).get(reverse("casework:case-detail", args=[theirs.number]))
    stranger = signed_in(busiest).get(reverse("casework:case-detail", args=[other.number]))

    assert page.status_code == 200
    assert theirs.detainee.family_names in page.content.decode()
    assert stranger.status_code == 404


def test_closed_cases_keep_their_lead_as_case_close_does(seeded):
    closed = Case.objects.filter(status=CaseStatus.CLOSED)
    open_leads = Assignment.objects.filter(case__in=closed, role="lead", ended_at__isnull=True)

    assert closed.count() > 20
    assert open_leads.values("case").distinct().count() == closed.count()  # the lead can still read and reopen it
    leads_access = CaseUserObjectPermission.objects.filter(content_object__in=closed, permission__codename="view_case")
    assert set(leads_access.values_list("user_id", "content_object_id")) >= set(
        open_leads.values_list("attorney_id", "case_id")
    )
    assert (
        not Assignment.objects.filter(
            case__status__in=[CaseStatus.ACTIVE, CaseStatus.CLOSED], role="lead", ended_at__isnull=True
        )
        .values("case")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )  # one open lead per active case


def test_the_seeded_ledger_balances(seeded):
    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []
    assert Transaction.objects.count() == 2 * Donation.objects.count()
    assert Posting.objects.filter(Q(amount__gt=0)).count() == Transaction.objects.count()


def test_a_larger_total_adds_only_the_missing_rows(seeded):
    before = set(Case.objects.values_list("number", flat=True))
    users = set(User.objects.values_list("pk", flat=True))

    out = seed(cases=350, donations=100, access_events=2000)

    after = set(Case.objects.values_list("number", flat=True))
    assert before < after
    assert len(after) == Case.objects.count() == 350
    assert set(User.objects.values_list("pk", flat=True)) == users
    assert Donation.objects.count() == 100
    assert AccessEvent.objects.count() == 2000 + 50  # each new case's registration is logged
    assert "300 there, adding 50" in out
    assert unbalanced_transactions() == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_commit_and_the_sequences_move_past_them(settings):
    settings.DEBUG = True
    seed(cases=40, attorneys=3, access_events=100, donations=6, chunk=15, check=10)
    seed(cases=55, attorneys=3, access_events=100, donations=6, chunk=15, check=10)

    assert Case.objects.count() == 55
    assert Case.objects.values("number").distinct().count() == 55
    case = Case.objects.filter(status=CaseStatus.ACTIVE).first()
    attorney = staff(Role.ATTORNEY)
    added = Assignment.objects.create(case=case, attorney=attorney, role="co_counsel", assigned_by=attorney)
    assert added.pk > max(Assignment.objects.exclude(pk=added.pk).values_list("pk", flat=True))
    assert unbalanced_transactions() == [] and ledger_mismatches() == []


def test_a_database_with_accounts_it_did_not_create_is_refused_unless_forced(settings, make_user):
    settings.DEBUG = True
    make_user(Role.ATTORNEY, email="real.attorney@example.org")

    with pytest.raises(CommandError, match="1 account\\(s\\) that seed_scale did not create"):
        seed(cases=5)
    assert not Case.objects.exists()

    seed(cases=5, access_events=0, donations=0, force=True)
    assert Case.objects.count() == 5
    real = User.objects.get(email="real.attorney@example.org")
    assert not Assignment.objects.filter(attorney=real).exists()  # seeded cases go to seeded staff only


def test_without_debug_it_is_refused(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        seed(cases=5)
    assert not User.objects.exists()


def test_sqlite_is_refused_with_a_clear_message(tmp_path):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", AMPARO_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_scale", "--cases", "10"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "seed_scale writes with PostgreSQL's COPY and this database is sqlite" in result.stderr
    assert "Traceback" not in result.stderr

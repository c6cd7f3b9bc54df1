"""The fictional demo casework that ``seed_demo`` loads: its shape, its story, and that it is made once."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import AccessEvent, User
from casework.models import (
    Appearance,
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseStatus,
    Deadline,
    Decision,
    Detainee,
    FamilyContact,
    Hearing,
    Note,
)
from demo.accounts import (
    ATTORNEY2_EMAIL,
    ATTORNEY_EMAIL,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    INTAKE_EMAIL,
    SUPERVISOR_EMAIL,
    demo_account_save,
    demo_accounts_save,
)
from demo.cases import seed_casework

pytestmark = pytest.mark.django_db

COUNT = 40


def _demo_accounts() -> dict:
    return {email: demo_account_save(email=email, full_name=name, role=role) for email, name, role in DEMO_ACCOUNTS}


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """The accounts and the cases, seeded once for this module's tests (seeding takes seconds) in a
    transaction rolled back after the last of them. Each test's own transaction is a savepoint
    inside it, so what a test changes is undone before the next one."""
    with django_db_blocker.unblock(), transaction.atomic():
        _demo_accounts()
        yield seed_casework(count=COUNT)
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db) -> dict:
    return dict(_seeded_once)


def _lead_cases(email: str, *, active_only: bool = False) -> set[int]:
    leads = Assignment.objects.filter(attorney__email=email, role=AssignmentRole.LEAD)
    if active_only:
        leads = leads.filter(ended_at__isnull=True, case__status=CaseStatus.ACTIVE)
    return set(leads.values_list("case_id", flat=True))


def test_cases_have_the_planned_shape_and_plausible_fictional_people(seeded):
    cases = Case.objects.all()
    assert cases.count() == COUNT
    assert (seeded["cases"], seeded["triage"], seeded["active"], seeded["closed"]) == (40, 5, 30, 5)
    assert seeded["created"] is True
    assert seeded["hearings"] == Hearing.objects.count() >= seeded["active"]
    assert seeded["deadlines"] == Deadline.objects.count() > 0
    assert all(re.fullmatch(r"\d{4}-\d{5}", number) for number in cases.values_list("number", flat=True))
    assert set(cases.values_list("registered_by__email", flat=True)) == {INTAKE_EMAIL, SUPERVISOR_EMAIL}
    assert not cases.filter(status=CaseStatus.CLOSED).filter(Q(close_reason="") | Q(closed_at=None)).exists()
    assert not cases.filter(status=CaseStatus.TRIAGE).exclude(court=None).exists()
    assert not cases.filter(status=CaseStatus.ACTIVE, court=None).exists()

    people = Detainee.objects.all()
    a_numbers = [a for a in people.values_list("a_number", flat=True) if a]
    assert len(a_numbers) == len(set(a_numbers))  # no duplicates
    assert all(re.fullmatch(r"2\d{8}", a) for a in a_numbers)
    assert 0.6 * COUNT <= len(a_numbers) <= 0.95 * COUNT
    assert people.filter(needs_interpreter=True).count() > COUNT / 2
    assert len(set(people.values_list("country_of_birth", flat=True))) >= 5
    adults = people.exclude(cases__uac_determination="unaccompanied")
    for born in adults.values_list("date_of_birth", flat=True):
        assert date(1960, 1, 1) <= born <= date(2007, 12, 31)
    today = timezone.localdate()
    for detained in cases.values_list("detained_on", flat=True):
        assert today - timedelta(days=120) <= detained <= today
    phones = FamilyContact.objects.values_list("phone", flat=True)
    assert phones and all(re.fullmatch(r"\(\d{3}\) 555-01\d\d", phone) for phone in phones)  # fictional range


def test_the_demo_has_an_unaccompanied_child_in_orr_custody(seeded):
    child = Case.objects.select_related("detainee").get(uac_determination="unaccompanied")

    assert child.minor_at_detention and child.status == CaseStatus.ACTIVE
    assert child.custodian == "orr"
    rules = dict(Deadline.objects.filter(case=child).values_list("rule", "status"))
    assert rules == {"uac_hhs_notice": "done", "uac_transfer": "done", "age_out": "open"}
    assert not child.relief.filter(kind="bond").exists()
    assert set(child.relief.values_list("kind", flat=True)) == {"sijs", "asylum"}


def test_the_demo_custody_authority_and_appearances(seeded):
    cases = Case.objects.all()
    assert cases.filter(custodian="released", release_basis="bond").exists()
    assert cases.filter(custodian="released", supervision="atd").exists()
    assert cases.filter(scope="bond_only", proceeding_type="removal").exists()
    assert {"236a", "235b"} <= set(cases.values_list("detention_authority", flat=True))
    assert not cases.filter(custodian__in=["released", "removed"], facility__isnull=False).exists()
    active = cases.filter(status=CaseStatus.ACTIVE)
    assert Appearance.objects.filter(case__in=active, forum="court", ended_on=None).count() >= active.count() // 2
    # A lead who stepped back is still of record: the case page warns.
    handed_back = cases.filter(status=CaseStatus.TRIAGE, needs_reassignment=True).first()
    assert handed_back is not None
    assert (
        Appearance.objects.filter(case=handed_back, ended_on=None)
        .exclude(attorney__in=handed_back.assignments.filter(ended_at=None).values("attorney"))
        .exists()
    )


def test_the_demo_has_the_decisions_an_attorney_meets(seeded):
    """In absentia, voluntary departure, bond grants with their conditions, appeals reserved and waived."""
    decisions = Decision.objects.all()
    in_absentia = decisions.filter(outcome="in_absentia").first()
    assert in_absentia is not None and in_absentia.appeal == "not_applicable"
    assert set(in_absentia.deadlines.values_list("rule", flat=True)) == {"motion_to_rescind"}
    departed = decisions.filter(outcome="vd_granted").first()
    assert departed is not None and departed.vd_days == 60 and departed.vd_bond_cents == 500_00
    deadlines = dict(departed.deadlines.values_list("rule", "status"))
    assert deadlines["vd_bond"] == "done" and "vd_departure" in deadlines
    grants = decisions.filter(outcome="bond_granted")
    assert grants.exists() and not grants.filter(bond_cents__isnull=True).exists()
    assert Deadline.objects.filter(decision__in=grants, rule="dhs_appeal_period").exists()
    assert {"reserved", "waived"} <= set(decisions.values_list("appeal", flat=True))
    # No win ever gave the client an appeal task.
    assert not Deadline.objects.filter(
        decision__outcome__in=["bond_granted", "relief_granted"], rule="bia_appeal"
    ).exists()
    # Every decided hearing has its decision, dated the hearing's day.
    for hearing in Hearing.objects.filter(outcome="decided").select_related("decision", "court"):
        assert hearing.decision.decided_on == hearing.local_start.date()


def test_caseloads_leads_and_hearings(seeded):
    active = Case.objects.filter(status=CaseStatus.ACTIVE).annotate(
        leads=Count("assignments", filter=Q(assignments__role="lead", assignments__ended_at__isnull=True))
    )
    assert active.count() == seeded["active"]
    assert set(active.values_list("leads", flat=True)) == {1}  # every active case: exactly one active lead
    triage = Case.objects.filter(status=CaseStatus.TRIAGE)
    assert not Assignment.objects.filter(case__in=triage, role="lead", ended_at__isnull=True).exists()
    assert triage.filter(needs_reassignment=True).exists()  # a lead left one

    first, second = _lead_cases(ATTORNEY_EMAIL), _lead_cases(ATTORNEY2_EMAIL)
    assert first and second
    assert not first & second  # never led the same case, not even one after the other
    active_first = _lead_cases(ATTORNEY_EMAIL, active_only=True)
    active_second = _lead_cases(ATTORNEY2_EMAIL, active_only=True)
    assert len(active_first) > len(active_second) > len(_lead_cases(SUPERVISOR_EMAIL, active_only=True)) > 0
    assert seeded["by_attorney"][ATTORNEY_EMAIL] == len(active_first)

    now = timezone.now()
    for hearing in Hearing.objects.select_related("court"):
        assert timezone.is_aware(hearing.starts_at)
        assert time(8) <= hearing.local_start.time() <= time(15)
        assert hearing.local_start.weekday() < 5
        assert hearing.starts_at < now + timedelta(days=61)
        assert (hearing.starts_at < now) == bool(hearing.outcome)  # past hearings have an outcome
    for email in (ATTORNEY_EMAIL, ATTORNEY2_EMAIL):
        soon = Hearing.objects.filter(
            case__in=_lead_cases(email, active_only=True), starts_at__gte=now, starts_at__lt=now + timedelta(days=14)
        )
        assert soon.count() >= 5, email


def test_the_timeline_is_backdated_consistently_and_a_second_run_creates_nothing(seeded):
    now = timezone.now()
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    for case in Case.objects.prefetch_related("events", "assignments"):
        assert all(event.at >= case.registered_at for event in case.events.all())
        assert all(a.started_at >= case.registered_at for a in case.assignments.all())
        assert all(a.ended_at is None or a.ended_at >= a.started_at for a in case.assignments.all())
        if case.first_assigned_at:
            assert case.first_assigned_at >= case.registered_at
        if case.closed_at:
            assert case.registered_at < case.closed_at < now
    waits = [now - c.registered_at for c in Case.objects.filter(status=CaseStatus.TRIAGE, needs_reassignment=False)]
    assert max(waits) - min(waits) > timedelta(hours=12)  # the triage queue has varied waiting times
    assert Note.objects.filter(privileged=True).exists() and Note.objects.filter(privileged=False).exists()

    before = (Case.objects.count(), Hearing.objects.count(), CaseEvent.objects.count(), AccessEvent.objects.count())
    out = StringIO()
    again = seed_casework(count=COUNT, stdout=out)
    after = (Case.objects.count(), Hearing.objects.count(), CaseEvent.objects.count(), AccessEvent.objects.count())
    assert after == before
    assert again == {**seeded, "created": False}
    assert "already there" in out.getvalue()


def test_every_row_a_step_creates_is_backdated_to_that_step(seeded):
    now = timezone.now()
    cases = Case.objects.select_related("detainee").prefetch_related("events", "hearings", "notes", "deadlines")
    for case in cases:
        assert case.registered_at < now - timedelta(minutes=4)  # not left at the moment of seeding
        assert case.detainee.created_at == case.registered_at  # made in the same step
        assert min(event.at for event in case.events.all()) == case.registered_at
        assert all(case.registered_at <= note.created_at < now - timedelta(minutes=4) for note in case.notes.all())
        assert all(case.registered_at < h.created_at < min(h.starts_at, now) for h in case.hearings.all())
        assert all(case.registered_at <= d.created_at < now for d in case.deadlines.all())
    stamps = set(CaseEvent.objects.values_list("at", flat=True))
    assert len(stamps) > 0.8 * CaseEvent.objects.count()  # each step has its own moment


def test_running_the_demo_again_keeps_passwords_and_sessions(client):
    """``make demo`` refreshes the demo accounts on every start: a changed password stays changed
    and whoever is signed in stays signed in (the password hash is not rewritten)."""
    from allauth.mfa.models import Authenticator

    demo_accounts_save()
    attorney = User.objects.get(email="attorney@demo.amparo.test")
    attorney.set_password("a-password-of-their-own-93")
    attorney.save()
    client.force_login(attorney)
    codes = Authenticator.objects.get(user=attorney, type=Authenticator.Type.RECOVERY_CODES).pk

    demo_accounts_save()

    attorney.refresh_from_db()
    assert attorney.check_password("a-password-of-their-own-93")
    assert client.get("/dashboard/").status_code == 200
    assert Authenticator.objects.get(user=attorney, type=Authenticator.Type.RECOVERY_CODES).pk == codes
    assert User.objects.get(email="admin@demo.amparo.test").check_password(DEMO_PASSWORD)

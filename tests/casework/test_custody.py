"""Custody: who holds the person, what a release rests on, supervision, detention authority, and the migration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import selectors, services
from casework.models import (
    Case,
    CaseEvent,
    Custodian,
    CustodyPeriod,
    DetentionAuthority,
    ProceedingType,
    ReleaseBasis,
    Relief,
    RepresentationScope,
    Supervision,
)
from tests.casework.pages import case_form
from tests.factories import UserFactory
from tests.forms import version

pytestmark = pytest.mark.django_db


def _detail(client, case) -> str:
    return client.get(reverse("casework:case-detail", args=[case.number])).content.decode()


# --- Custodian and release basis ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("custodian", "detained"),
    [
        (Custodian.ICE, True),
        (Custodian.CBP, True),
        (Custodian.CRIMINAL_DETAINER, True),
        (Custodian.RELEASED, False),
        (Custodian.REMOVED, False),
        (Custodian.UNKNOWN, False),
    ],
)
def test_is_detained_means_someone_holds_the_person(custodian, detained):
    assert Case(custodian=custodian).is_detained is detained


def test_intake_in_a_county_jail_on_an_ice_detainer_is_detained(register_case, intake_worker, facility):
    case = register_case(by=intake_worker, custodian=Custodian.CRIMINAL_DETAINER)

    assert case.custodian == Custodian.CRIMINAL_DETAINER and case.is_detained
    assert CustodyPeriod.objects.get(case=case).custodian == Custodian.CRIMINAL_DETAINER
    assert case.facility == facility


def test_release_on_conditional_parole_is_recorded_with_its_basis(assigned_case, attorney):
    day = timezone.localdate()

    period = services.custody_record_change(
        case=assigned_case,
        custodian=Custodian.RELEASED,
        release_basis=ReleaseBasis.CONDITIONAL_PAROLE,
        facility=None,
        started_on=day,
        by=attorney,
    )

    assigned_case.refresh_from_db()
    assert (assigned_case.custodian, assigned_case.release_basis) == ("released", "conditional_parole")
    assert assigned_case.custody_label == "Released: Conditional parole (INA 236(a)(2)(B))"
    assert period.label == assigned_case.custody_label
    first, second = CustodyPeriod.objects.filter(case=assigned_case).order_by("started_on", "id")
    assert (first.custodian, first.ended_on) == ("ice", day)
    assert (second.custodian, second.release_basis, second.ended_on) == ("released", "conditional_parole", None)


def test_a_release_needs_its_basis_and_a_held_person_has_none(assigned_case, attorney):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as missing:
        services.custody_record_change(
            case=assigned_case, custodian=Custodian.RELEASED, facility=None, started_on=today, by=attorney
        )
    with pytest.raises(ValidationError) as misplaced:
        services.custody_record_change(
            case=assigned_case,
            custodian=Custodian.ICE,
            release_basis=ReleaseBasis.BOND,
            facility=None,
            started_on=today,
            by=attorney,
        )

    assert "release_basis" in missing.value.message_dict
    assert "release_basis" in misplaced.value.message_dict
    assert CustodyPeriod.objects.filter(case=assigned_case).count() == 1


def test_the_database_refuses_a_release_basis_while_held(assigned_case):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=assigned_case.pk).update(custodian="ice", release_basis="bond")


def test_atd_is_supervision_on_top_of_a_release_with_the_next_check_in(lawyer, assigned_case):
    today = timezone.localdate()
    lawyer.post(
        reverse("casework:custody-change", args=[assigned_case.number]),
        case_form(
            lawyer,
            assigned_case,
            "custody_form",
            {"custodian": "released", "release_basis": "bond", "started_on": today.isoformat()},
        ),
    )
    check_in = today + timedelta(days=30)

    response = lawyer.post(
        reverse("casework:custody-supervision", args=[assigned_case.number]),
        case_form(
            lawyer, assigned_case, "supervision_form", {"supervision": "atd", "next_check_in_on": check_in.isoformat()}
        ),
    )

    assert response.status_code == 302
    assigned_case.refresh_from_db()
    assert (assigned_case.supervision, assigned_case.next_check_in_on) == ("atd", check_in)
    assert CustodyPeriod.objects.get(case=assigned_case, ended_on=None).supervision == "atd"
    page = _detail(lawyer, assigned_case)
    assert "Released: Bond · Alternatives to detention (ATD/ISAP)" in page


def test_atd_for_a_detained_person_is_refused(assigned_case, attorney):
    with pytest.raises(ValidationError) as refused:
        services.custody_update_supervision(
            case=assigned_case, supervision=Supervision.ATD, next_check_in_on=None, by=attorney
        )

    assert "supervision" in refused.value.message_dict


def test_a_new_custody_without_supervision_clears_the_check_in(assigned_case, attorney):
    today = timezone.localdate()
    services.custody_record_change(
        case=assigned_case,
        custodian=Custodian.RELEASED,
        release_basis=ReleaseBasis.HUMANITARIAN_PAROLE,
        supervision=Supervision.ATD,
        facility=None,
        started_on=today,
        by=attorney,
    )
    services.custody_update_supervision(
        case=assigned_case, supervision=Supervision.ATD, next_check_in_on=today + timedelta(days=7), by=attorney
    )

    services.custody_record_change(
        case=assigned_case, custodian=Custodian.ICE, facility=None, started_on=today, by=attorney
    )  # re-detained at the check-in

    assigned_case.refresh_from_db()
    assert (assigned_case.custodian, assigned_case.supervision, assigned_case.next_check_in_on) == ("ice", "", None)


def test_orr_custody_needs_the_unaccompanied_child_determination(assigned_case, attorney):
    with pytest.raises(ValidationError) as refused:
        services.custody_record_change(
            case=assigned_case, custodian=Custodian.ORR, facility=None, started_on=timezone.localdate(), by=attorney
        )

    assert "custodian" in refused.value.message_dict


def test_case_list_filters_by_detention_and_by_authority(register_case, intake_worker, supervisor):
    held = register_case(by=intake_worker, a_number="")
    out = register_case(by=intake_worker, a_number="", given_names="Ana", family_names="Ruiz")
    services.custody_record_change(
        case=out,
        custodian=Custodian.RELEASED,
        release_basis=ReleaseBasis.RECOGNIZANCE,
        facility=None,
        started_on=timezone.localdate(),
        by=supervisor,
    )
    services.case_update_details(case=held, by=supervisor, detention_authority=DetentionAuthority.INA_236C)

    assert list(selectors.case_list(supervisor, custody=selectors.DETAINED)) == [held]
    assert list(selectors.case_list(supervisor, custody=Custodian.RELEASED)) == [out]
    assert list(selectors.case_list(supervisor, authority=DetentionAuthority.INA_236C)) == [held]


# --- Detention authority, stage and scope ---------------------------------------------------------


@pytest.mark.parametrize(
    ("authority", "possible"),
    [
        (DetentionAuthority.UNKNOWN, None),
        (DetentionAuthority.INA_236A, True),
        (DetentionAuthority.INA_236C, False),
        (DetentionAuthority.INA_235B, False),
        (DetentionAuthority.INA_241, False),
    ],
)
def test_bond_is_possible_only_under_236a(authority, possible):
    assert Case(detention_authority=authority).bond_possible is possible


def test_case_page_explains_why_no_bond_under_235b(lawyer, assigned_case, attorney):
    services.case_update_details(case=assigned_case, by=attorney, detention_authority=DetentionAuthority.INA_235B)

    page = _detail(lawyer, assigned_case)

    assert "INA 235(b): applicant for admission, parole only" in page
    assert "Matter of Yajure Hurtado, 29 I" in page and "Dec. 216 (BIA 2025)" in page


def test_editing_stage_scope_and_authority(lawyer, assigned_case):
    url = reverse("casework:case-edit", args=[assigned_case.number])
    response = lawyer.post(
        url,
        version(
            lawyer,
            url,
            {
                "given_names": "José",
                "family_names": "Hernández-López",
                "proceeding_type": "reinstatement",
                "detention_authority": "241",
                "stage": "petition_for_review",
                "scope": "limited",
            },
        ),
    )

    assert response.status_code == 302
    assigned_case.refresh_from_db()
    assert (
        assigned_case.proceeding_type,
        assigned_case.detention_authority,
        assigned_case.stage,
        assigned_case.scope,
    ) == ("reinstatement", "241", "petition_for_review", "limited")
    page = _detail(lawyer, assigned_case)
    assert "Reinstatement of a prior order (INA 241(a)(5))" in page
    assert "Petition for review (court of appeals) · Limited scope" in page


def test_bond_is_no_longer_a_proceeding():
    assert "bond" not in ProceedingType.values
    assert RepresentationScope.BOND_ONLY == "bond_only"


# --- The migration carries existing data over, and back --------------------------------------------

BEFORE = [("casework", "0006_decisions")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _latest() -> list[tuple[str, str]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _old_cases(apps, user_id: int) -> dict[str, int]:
    """One case per old custody status, each with one custody period of that status."""
    Detainee = apps.get_model("casework", "Detainee")
    OldCase = apps.get_model("casework", "Case")
    Period = apps.get_model("casework", "CustodyPeriod")
    ids = {}
    for n, status in enumerate(["detained", "bond", "recognizance", "parole", "atd", "removed", "unknown"]):
        person = Detainee.objects.create(given_names=f"Old{n}", family_names="Custodio-Viejo", created_by_id=user_id)
        case = OldCase.objects.create(
            number=f"2020-{n:05d}",
            detainee=person,
            custody_status=status,
            proceeding_type="bond" if status == "bond" else "removal",
            registered_by_id=user_id,
        )
        Period.objects.create(case=case, status=status, started_on=date(2025, 1, 1 + n), recorded_by_id=user_id)
        ids[status] = case.pk
    return ids


@pytest.mark.django_db(transaction=True)
def test_existing_custody_relief_and_bond_proceedings_are_carried_over_and_back():
    user = UserFactory(role=Role.SUPERVISOR)
    latest = _latest()
    executor = _migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    ids = _old_cases(apps, user.pk)
    OldRelief = apps.get_model("casework", "Relief")
    OldRelief.objects.create(case_id=ids["detained"], kind="cat", status="filed", filed_on=date(2025, 2, 1))
    OldRelief.objects.create(
        case_id=ids["bond"], kind="bond", status="granted", filed_on=date(2025, 2, 2), decided_on=date(2025, 2, 9)
    )
    OldRelief.objects.create(case_id=ids["bond"], kind="asylum", status="preparing")

    _migrate(latest)

    expected = {
        "detained": ("ice", "", ""),
        "bond": ("released", "bond", ""),
        "recognizance": ("released", "recognizance", ""),
        "parole": ("released", "humanitarian_parole", ""),
        "atd": ("released", "other", "atd"),
        "removed": ("removed", "", ""),
        "unknown": ("unknown", "", ""),
    }
    for old, new in expected.items():
        case = Case.objects.get(pk=ids[old])
        assert (case.custodian, case.release_basis, case.supervision) == new, old
        period = CustodyPeriod.objects.get(case=case)
        assert (period.custodian, period.release_basis, period.supervision) == new, old
    bond_case = Case.objects.get(pk=ids["bond"])
    assert (bond_case.proceeding_type, bond_case.scope) == ("unknown", "bond_only")
    assert Case.objects.get(pk=ids["detained"]).scope == "full"
    assert list(Relief.objects.filter(case_id=ids["detained"]).values_list("kind", "status")) == [
        ("cat_withholding", "filed")
    ]
    assert list(Relief.objects.filter(case_id=ids["bond"]).values_list("kind", flat=True)) == ["asylum"]
    bond_line = CaseEvent.objects.get(case_id=ids["bond"], kind="relief").summary
    assert bond_line.startswith("Bond was tracked as relief: granted, requested 2025-02-02, decided 2025-02-09.")
    assert "CAT withholding of removal" in CaseEvent.objects.get(case_id=ids["detained"], kind="relief").summary

    # And back: the old statuses, the bond proceeding and the CAT row (the bond row stays a timeline line).
    executor = _migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    OldCase = apps.get_model("casework", "Case")
    assert {OldCase.objects.get(pk=pk).custody_status: pk for pk in ids.values()} == ids
    assert OldCase.objects.get(pk=ids["bond"]).proceeding_type == "bond"
    assert list(
        apps.get_model("casework", "Relief").objects.filter(case_id=ids["detained"]).values_list("kind", flat=True)
    ) == ["cat"]
    _migrate(latest)

"""Relief: CAT withholding and deferral apart, the new forms of relief, a claim to U.S. citizenship as the
most urgent flag, bond out of the list, and the asylum one-year deadline's exceptions."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from casework import services
from casework.deadlines import Rule
from casework.models import Case, ReliefKind, ReliefStatus
from tests.forms import once, version

pytestmark = pytest.mark.django_db


def _save(case, kind, status, by):
    return services.relief_save(case=case, kind=kind, status=status, filed_on=None, decided_on=None, by=by)


def test_cat_withholding_and_deferral_are_two_forms_of_relief(assigned_case, attorney):
    _save(assigned_case, ReliefKind.CAT_WITHHOLDING, ReliefStatus.FILED, attorney)
    _save(assigned_case, ReliefKind.CAT_DEFERRAL, ReliefStatus.FILED, attorney)

    assert sorted(assigned_case.relief.values_list("kind", flat=True)) == ["cat_deferral", "cat_withholding"]
    assert ReliefKind.CAT_WITHHOLDING.label == "CAT: withholding of removal (8 CFR 1208.16(c))"
    assert ReliefKind.CAT_DEFERRAL.label == "CAT: deferral of removal (8 CFR 1208.17)"


def test_the_new_forms_of_relief_are_offered_and_bond_is_not(lawyer, assigned_case):
    for kind in ("vawa_cancellation", "waiver_212h", "waiver_212c", "nacara", "registry", "daca"):
        response = lawyer.post(
            reverse("casework:relief-save", args=[assigned_case.number]), once({"kind": kind, "status": "considering"})
        )
        assert response.status_code == 302, kind
    refused = lawyer.post(
        reverse("casework:relief-save", args=[assigned_case.number]), once({"kind": "bond", "status": "preparing"})
    )

    assert refused.status_code == 422
    assert assigned_case.relief.count() == 6
    assert "bond" not in ReliefKind.values and "cat" not in ReliefKind.values


def test_a_claim_to_us_citizenship_is_the_most_urgent_flag(lawyer, assigned_case, attorney):
    assigned_case.flag_imminent_removal = True
    assigned_case.save(update_fields=["flag_imminent_removal"])

    _save(assigned_case, ReliefKind.CITIZENSHIP_CLAIM, ReliefStatus.CONSIDERING, attorney)

    case = Case.objects.select_related("detainee").get(pk=assigned_case.pk)
    assert case.citizenship_claimed
    assert case.urgent_flags[:2] == ["claims U.S. citizenship", "imminent removal"]
    page = lawyer.get(reverse("casework:case-detail", args=[case.number])).content.decode()
    assert "Claims U.S. citizenship." in page
    assert "ICE Directive 16001.2" in page
    assert "INA 341, 8 U.S.C. 1452" in page and "8 U.S.C. 1503" in page
    listed = lawyer.get(reverse("casework:case-list")).content.decode()
    assert '<span class="badge badge-danger">claims U.S. citizenship</span>' in listed


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        (ReliefStatus.FILED, True),
        (ReliefStatus.APPEALED, True),
        (ReliefStatus.GRANTED, True),  # a citizen still held: as urgent as ever until released
        (ReliefStatus.DENIED, False),
        (ReliefStatus.WITHDRAWN, False),
    ],
)
def test_the_citizenship_flag_follows_the_claim(assigned_case, attorney, status, flagged):
    _save(assigned_case, ReliefKind.CITIZENSHIP_CLAIM, ReliefStatus.CONSIDERING, attorney)

    _save(assigned_case, ReliefKind.CITIZENSHIP_CLAIM, status, attorney)

    assigned_case.refresh_from_db()
    assert assigned_case.citizenship_claimed is flagged


def test_asylum_exception_is_recorded_and_shown_with_the_asylum_deadline(lawyer, assigned_case, attorney):
    services.deadline_add_from_rule(
        case=assigned_case, rule=Rule.ASYLUM_ONE_YEAR, source_date=date(2025, 6, 10), by=attorney
    )

    url = reverse("casework:case-edit", args=[assigned_case.number])
    response = lawyer.post(
        url,
        version(
            lawyer,
            url,
            {
                "given_names": "José",
                "family_names": "Hernández-López",
                "proceeding_type": "removal",
                "asylum_exception": "changed_circumstances",
                "asylum_exception_note": "Brother killed by the same gang in January 2026.",
            },
        ),
    )

    assert response.status_code == 302
    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert "Asylum one-year deadline:" in page
    assert "Exception claimed: Changed circumstances" in page
    assert "Brother killed by the same gang in January 2026." in page
    assert "within a reasonable period" in page


def test_without_an_exception_the_page_says_the_year_does_not_bar_withholding_or_cat(lawyer, assigned_case, attorney):
    services.deadline_add_from_rule(
        case=assigned_case, rule=Rule.ASYLUM_ONE_YEAR, source_date=date(2025, 6, 10), by=attorney
    )

    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()

    assert "No exception claimed" in page
    assert "does not bar withholding of removal or CAT protection" in page


def test_the_exception_note_goes_with_the_exception(assigned_case, attorney):
    services.case_update_details(
        case=assigned_case,
        by=attorney,
        asylum_exception="extraordinary_circumstances",
        asylum_exception_note="Hospitalised for four months.",
    )

    services.case_update_details(case=assigned_case, by=attorney, asylum_exception="")

    assigned_case.refresh_from_db()
    assert (assigned_case.asylum_exception, assigned_case.asylum_exception_note) == ("", "")

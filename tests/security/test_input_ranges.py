"""Every date a form takes lies in a range, and every phone number has a format (ASVS 2.2.1, level 2).

A day out of range (9999-12-31, 0001-01-01) or a phone that is not one is a form error on a 4xx page,
never a 500 (a hearing on 9999-12-31 at 23:30 in Arizona once overflowed when it was converted to UTC);
a good value is still saved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import forms as accounts_forms
from accounts.roles import Role
from casework import forms as casework_forms
from casework import forms_oversight
from casework import services as casework_services
from casework.models import AssignmentRole, Case, Deadline, FamilyContact, Hearing, ImmigrationCourt
from casework.views import erasure as erasure_views
from funds import forms as funds_forms
from funds.identity import donor_email_index
from funds.models import Bond, Disbursement, Donation, Donor, Fund
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_request
from funds.views import donor as donor_views
from kernel.forms import BoundedDateField, PhoneField, validate_phone
from reports import forms as reports_forms
from tests.factories import UserFactory
from tests.forms import once

FORM_MODULES = [
    casework_forms,
    forms_oversight,
    erasure_views,
    funds_forms,
    donor_views,
    reports_forms,
    accounts_forms,
]
OUT_OF_RANGE = "Choose a day between"
BAD_PHONE = "call me <b>maybe</b> !!"
PHONE_ERROR = "Enter a phone number of 7 to 20 digits"


def _form_classes() -> list[type[forms.BaseForm]]:
    return [
        form
        for module in FORM_MODULES
        for form in vars(module).values()
        if isinstance(form, type) and issubclass(form, forms.BaseForm) and form.__module__ == module.__name__
    ]


def _fields(kind: type[forms.Field]) -> list[tuple[str, forms.Field]]:
    return [
        (f"{form.__name__}.{name}", field)
        for form in _form_classes()
        for name, field in form.base_fields.items()
        if isinstance(field, kind)
    ]


DATE_FIELDS = _fields(forms.DateField)


# --- Every form, field by field -----------------------------------------------------------------


def test_every_date_field_of_every_form_has_a_range():
    assert len(DATE_FIELDS) > 40  # the walk found the forms
    assert [name for name, field in DATE_FIELDS if not isinstance(field, BoundedDateField)] == []
    # No form takes a date and time in one field: each takes a bounded day and a time apart.
    assert [name for name, _ in _fields(forms.DateTimeField)] == []


@pytest.mark.parametrize(("name", "field"), DATE_FIELDS, ids=[name for name, _ in DATE_FIELDS])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_no_form_takes_a_day_in_year_1_or_9999(name, field, value):
    with pytest.raises(ValidationError) as refused:
        field.clean(value)

    assert refused.value.code == ("too_late" if value.startswith("9999") else "too_early")


@pytest.mark.parametrize(("name", "field"), DATE_FIELDS, ids=[name for name, _ in DATE_FIELDS])
def test_every_date_field_takes_today(name, field):
    assert field.clean(timezone.localdate().isoformat()) == timezone.localdate()


def test_every_phone_field_of_every_form_checks_the_number():
    phones = [
        (f"{form.__name__}.{name}", field)
        for form in _form_classes()
        for name, field in form.base_fields.items()
        if "phone" in name
    ]

    assert {name for name, _ in phones} == {"IntakeForm.contact_phone", "BondPaymentForm.obligor_phone"}
    assert [name for name, field in phones if not isinstance(field, PhoneField)] == []
    assert all(field.max_length == 40 for _, field in phones)  # the models' limit


@pytest.mark.parametrize(
    "phone", ["(202) 555-0147", "+1 555 0142", "+52 55 1234 5678", "202.555.0147", "5550147", "+" + "1" * 20]
)
def test_a_phone_number_as_people_write_it_is_taken(phone):
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        BAD_PHONE,
        "<b>x</b>",
        "555-014",  # six digits
        "1" * 21,
        "+1 (202) 555-0147 x12",
        "1-800-FLOWERS",
        "++1 202 555 0147",
        "202 + 555 0147",
        "\u0662\u0660\u0662\u0665\u0665\u0665\u0660\u0661\u0664\u0667",  # Arabic-Indic digits
        "202 555 0147\x00",
        "=1+2025550147",
    ],
)
def test_anything_else_is_not_a_phone_number(phone):
    with pytest.raises(ValidationError) as refused:
        validate_phone(phone)

    assert refused.value.code == "phone"


# --- Through the pages -------------------------------------------------------------------------


@pytest.fixture
def attorney(db):
    return UserFactory(role=Role.ATTORNEY)


@pytest.fixture
def lawyer(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client


@pytest.fixture
def court(db) -> ImmigrationCourt:
    return ImmigrationCourt.objects.get(name="Eloy Immigration Court")  # America/Phoenix, UTC-7 all year


@pytest.fixture
def case(attorney, court) -> Case:
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Tlali", family_names="Xocoyotl"),
        by=UserFactory(role=Role.INTAKE),
    )
    casework_services.case_assign(
        case=case, attorney=attorney, role=AssignmentRole.LEAD, by=UserFactory(role=Role.SUPERVISOR)
    )
    Case.objects.filter(pk=case.pk).update(court=court)
    case.refresh_from_db()
    return case


def _hearing(court, day: str) -> dict:
    return {"kind": "master", "court": court.pk, "date": day, "time": "23:30", "medium": "in_person"}


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_hearing_in_year_9999_or_1_is_a_form_error_not_a_500(lawyer, case, court, day):
    response = lawyer.post(reverse("casework:hearing-new", args=[case.number]), _hearing(court, day))

    assert response.status_code == 422
    assert OUT_OF_RANGE in response.content.decode()
    assert not Hearing.objects.exists()


@pytest.mark.django_db
def test_a_hearing_late_at_night_ten_years_ahead_is_still_saved(lawyer, case, court):
    day = timezone.localdate() + timedelta(days=3650)

    response = lawyer.post(reverse("casework:hearing-new", args=[case.number]), once(_hearing(court, day.isoformat())))

    assert response.status_code == 302
    assert Hearing.objects.get(case=case).starts_at == datetime.combine(day, datetime.min.time(), tzinfo=UTC) + (
        timedelta(hours=23 + 7, minutes=30)
    )


def _case_page_posts(case: Case, attorney) -> list[tuple[str, dict, str]]:
    """(url, data with ``DAY`` where the day goes, field) for every dated form of the case pages."""
    number = [case.number]
    return [
        (
            reverse("casework:deadline-new", args=number),
            {"kind": "manual", "manual-title": "Brief", "manual-due_on": "DAY"},
            "due_on",
        ),
        (
            reverse("casework:deadline-new", args=number),
            {"kind": "rule", "rule-rule": "bia_brief", "rule-source_date": "DAY"},
            "source_date",
        ),
        (
            reverse("casework:decision-new", args=number),
            {"forum": "ij", "outcome": "other", "decided_on": "DAY", "service": "oral"},
            "decided_on",
        ),
        (reverse("casework:custody-change", args=number), {"custodian": "ice", "started_on": "DAY"}, "started_on"),
        (reverse("casework:custody-supervision", args=number), {"next_check_in_on": "DAY"}, "next_check_in_on"),
        (
            reverse("casework:uac-determination", args=number),
            {"determination": "not_a_minor", "determined_on": "DAY"},
            "determined_on",
        ),
        (
            reverse("casework:appearance-record", args=number),
            {"forum": "ij", "attorney": attorney.pk, "filed_on": "DAY"},
            "filed_on",
        ),
        (
            reverse("casework:relief-save", args=number),
            {"kind": "asylum", "status": "filed", "filed_on": "DAY"},
            "filed_on",
        ),
        (
            reverse("casework:case-edit", args=number),
            {
                "given_names": "Tlali",
                "family_names": "Xocoyotl",
                "proceeding_type": "removal",
                "last_arrival_on": "DAY",
            },
            "last_arrival_on",
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(9))
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_every_dated_form_of_a_case_answers_an_extreme_day_with_a_form_error(lawyer, attorney, case, index, day):
    url, data, field = _case_page_posts(case, attorney)[index]

    response = lawyer.post(url, {key: day if value == "DAY" else value for key, value in data.items()})

    assert response.status_code == 422, field
    assert OUT_OF_RANGE in response.content.decode(), field


@pytest.mark.django_db
def test_a_deadline_on_a_good_day_is_still_saved(lawyer, case):
    day = timezone.localdate() + timedelta(days=20)

    response = lawyer.post(
        reverse("casework:deadline-new", args=[case.number]),
        once({"kind": "manual", "manual-title": "Brief", "manual-due_on": day.isoformat()}, prefix="manual"),
    )

    assert response.status_code == 302
    assert Deadline.objects.get(case=case).due_on == day


# --- Intake -------------------------------------------------------------------------------------

INTAKE = {
    "given_names": "Itzel",
    "family_names": "Quauhtli",
    "date_of_birth": "1990-05-17",
    "custodian": "ice",
    "contact_name": "Yaretzi Quauhtli",
    "contact_phone": "(202) 555-0147",
}


@pytest.fixture
def intake_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.INTAKE))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("date_of_birth", "message"),
    [
        ("0001-01-01", "Choose a day between Jan. 1, 1900 and"),
        ("1899-12-31", "Choose a day between Jan. 1, 1900 and"),
        ("9999-12-31", "The date of birth cannot be in the future."),
        ("99999-01-01", "Enter a valid date."),
    ],
)
def test_intake_refuses_an_impossible_date_of_birth(intake_client, date_of_birth, message):
    response = intake_client.post(reverse("casework:intake"), once({**INTAKE, "date_of_birth": date_of_birth}))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("phone", [BAD_PHONE, "555-01", "ask at the front desk"])
def test_intake_refuses_a_contact_phone_that_is_not_a_number(intake_client, phone):
    response = intake_client.post(reverse("casework:intake"), once({**INTAKE, "contact_phone": phone}))

    assert response.status_code == 422
    assert PHONE_ERROR in response.content.decode()
    assert not Case.objects.exists()
    assert not FamilyContact.objects.exists()


@pytest.mark.django_db
def test_intake_keeps_a_good_phone_and_the_oldest_date_of_birth(intake_client):
    response = intake_client.post(
        reverse("casework:intake"),
        once({**INTAKE, "date_of_birth": "1900-01-01", "contact_phone": " +52 55 1234 5678 "}),
    )

    assert response.status_code == 302
    case = Case.objects.get()
    assert case.detainee.date_of_birth == date(1900, 1, 1)
    assert FamilyContact.objects.get(detainee=case.detainee).phone == "+52 55 1234 5678"


# --- Paying a bond ------------------------------------------------------------------------------


@pytest.fixture
def approved_bond_request(db, case, attorney):
    fund = Fund.objects.get(slug="bond")
    donor = Donor.objects.create(email_index=donor_email_index("giver@example.org"), email="giver@example.org")
    gift = Donation.objects.create(donor=donor, fund=fund, amount_cents=5_000_000, status="paid")
    on = datetime(2025, 1, 2, tzinfo=UTC)
    bookkeeping.book_donation(donation=gift, fee_cents=0, occurred_at=on)
    bookkeeping.book_payout(key="payout:bonds", allocation={fund: 5_000_000}, occurred_at=on, description="p")
    request = disbursement_request(
        case=case, fund=fund, purpose="bond", amount_cents=400_000, payee="DHS/ICE", reason="IJ", by=attorney
    )
    disbursement_approve(disbursement=request, by=UserFactory(role=Role.FINANCE))
    return request


def _pay(request, **changes):
    finance = Client()
    finance.force_login(UserFactory(role=Role.FINANCE))
    data = {
        "action": "pay",
        "paid_on": timezone.localdate().isoformat(),
        "method": "wire",
        "reference": "FW-77",
        "bond_type": "delivery",
        "posting_method": "cebonds_fedwire",
        "obligor_kind": "person",
        "obligor_name": "Citlali Obligada-Zyx",
        "obligor_phone": "+1 555 0142",
        **changes,
    }
    return finance.post(reverse("funds:disbursement-detail", args=[request.pk]), once(data))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"obligor_phone": BAD_PHONE}, PHONE_ERROR),
        ({"paid_on": "9999-12-31"}, OUT_OF_RANGE),
        ({"paid_on": "0001-01-01"}, OUT_OF_RANGE),
        ({"posted_on": "9999-12-31"}, OUT_OF_RANGE),
    ],
)
def test_a_bond_payment_with_a_bad_phone_or_day_is_a_form_error_and_nothing_is_paid(
    approved_bond_request, changes, message
):
    response = _pay(approved_bond_request, **changes)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Bond.objects.exists()
    approved_bond_request.refresh_from_db()
    assert approved_bond_request.status == Disbursement.Status.APPROVED


@pytest.mark.django_db
def test_a_bond_payment_with_a_good_phone_is_saved(approved_bond_request):
    response = _pay(approved_bond_request, obligor_phone="(520) 555-0188")

    assert response.status_code == 302
    assert Bond.objects.get().obligor_phone == "(520) 555-0188"

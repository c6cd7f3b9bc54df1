"""The shipped courts and facilities: every row loads, re-loading is harmless, retired facilities."""

from __future__ import annotations

import csv
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.forms import CustodyForm, IntakeForm
from casework.models import CustodyPeriod, DetentionFacility, ImmigrationCourt
from tests.casework.pages import case_form

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "casework" / "data"
CODELESS = [
    ("Midwest Regional Reception Center", "Leavenworth", "KS"),
    ("Sunny Glen Cld Home Ndr Ctr", "Raymondville", "TX"),
]


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="") as f:
        return list(csv.DictReader(f))


def _load() -> None:
    import_module("casework.migrations.0004_facilities_without_code").load(apps, None)


def _snapshot() -> tuple[list[dict], list[dict]]:
    return (
        list(DetentionFacility.objects.order_by("pk").values()),
        list(ImmigrationCourt.objects.order_by("pk").values()),
    )


def _options(page: str, facility: DetentionFacility) -> int:
    return page.count(f'<option value="{facility.pk}"')


def test_every_facility_in_the_csv_is_loaded():
    rows = _rows("detention_facilities.csv")

    assert DetentionFacility.objects.count() == len(rows)
    for row in rows:
        if row["code"]:
            assert DetentionFacility.objects.filter(code=row["code"], name=row["name"]).exists(), row
        else:
            assert DetentionFacility.objects.filter(
                code="", name=row["name"], city=row["city"], state=row["state"]
            ).exists(), row
    assert ImmigrationCourt.objects.count() == len(_rows("immigration_courts.csv"))


def test_both_facilities_without_a_code_are_loaded():
    codeless = DetentionFacility.objects.filter(code="").order_by("name")

    assert [(f.name, f.city, f.state) for f in codeless] == CODELESS
    assert all(f.in_use for f in codeless)


def test_loading_again_changes_nothing():
    before = _snapshot()

    _load()
    _load()

    assert _snapshot() == before


def test_loading_again_adds_the_facility_the_old_load_dropped():
    # What a database migrated before 0004 holds: the second codeless row had overwritten the first.
    DetentionFacility.objects.get(name="Midwest Regional Reception Center").delete()
    sunny_glen = DetentionFacility.objects.get(name="Sunny Glen Cld Home Ndr Ctr")

    _load()

    assert DetentionFacility.objects.count() == len(_rows("detention_facilities.csv"))
    midwest = DetentionFacility.objects.get(name="Midwest Regional Reception Center")
    assert (midwest.code, midwest.city, midwest.state, midwest.kind) == ("", "Leavenworth", "KS", "CDF")
    assert DetentionFacility.objects.get(name="Sunny Glen Cld Home Ndr Ctr").pk == sunny_glen.pk


def test_loading_again_keeps_a_facility_marked_not_in_use():
    retired = DetentionFacility.objects.exclude(code="").order_by("code").first()
    retired.in_use = False
    retired.save()

    _load()

    retired.refresh_from_db()
    assert not retired.in_use


def test_codes_and_codeless_facilities_stay_unique():
    coded = DetentionFacility.objects.exclude(code="").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        DetentionFacility.objects.create(code=coded.code, name="Another", city="X", state="TX", timezone="UTC")
    with pytest.raises(IntegrityError), transaction.atomic():
        DetentionFacility.objects.create(code="", name=CODELESS[0][0], city="Leavenworth", state="KS", timezone="UTC")


def test_a_facility_not_in_use_is_not_offered_at_intake(intake_worker):
    retired, open_ = DetentionFacility.objects.exclude(code="").order_by("code")[:2]
    retired.in_use = False
    retired.save()
    client = Client()
    client.force_login(intake_worker)

    page = client.get(reverse("casework:intake")).content.decode()

    assert _options(page, retired) == 0
    assert _options(page, open_) == 1
    form = IntakeForm({"given_names": "Ana", "family_names": "Díaz", "facility": retired.pk})
    assert not form.is_valid()
    assert "facility" in form.errors


def test_a_case_keeps_its_facility_after_it_goes_out_of_use(attorney, assigned_case):
    held_at = assigned_case.facility
    held_at.in_use = False
    held_at.save()
    other_retired = DetentionFacility.objects.exclude(pk=held_at.pk).exclude(code="").order_by("code").first()
    other_retired.in_use = False
    other_retired.save()
    client = Client()
    client.force_login(attorney)
    change = reverse("casework:custody-change", args=[assigned_case.number])
    today = timezone.localdate().isoformat()

    page = client.get(change).content.decode()  # the custody form, opened
    assert f'<option value="{held_at.pk}" selected>' in page
    assert _options(page, other_retired) == 0

    # Recording a change that keeps the person where they are is accepted.
    response = client.post(
        change,
        case_form(
            client, assigned_case, "custody_form", {"custodian": "ice", "facility": held_at.pk, "started_on": today}
        ),
    )
    assert response.status_code == 302
    assert CustodyPeriod.objects.get(case=assigned_case, ended_on__isnull=True).facility == held_at

    # Moving them to a facility that is no longer in use is not.
    response = client.post(
        change,
        case_form(
            client,
            assigned_case,
            "custody_form",
            {"custodian": "ice", "facility": other_retired.pk, "started_on": today},
        ),
    )
    assert response.status_code == 422
    assigned_case.refresh_from_db()
    assert assigned_case.facility == held_at
    assert not CustodyForm({"custodian": "ice", "facility": held_at.pk, "started_on": today}).is_valid()


def test_facilities_known_closed_are_not_offered_but_stay_on_old_records():
    closed = DetentionFacility.objects.get(code="YORCOPA")

    assert not closed.in_use
    assert not DetentionFacility.objects.get(code="KANKEIL").in_use
    assert DetentionFacility.objects.filter(in_use=True).count() == DetentionFacility.objects.count() - 2


def test_staff_mark_a_facility_no_longer_used_and_back(capsys):
    call_command("facility_in_use", "ancHOAK", "--no")
    assert not DetentionFacility.objects.get(code="ANCHOAK").in_use
    assert "1 facility changed." in capsys.readouterr().out

    call_command("facility_in_use", "ANCHOAK", "--yes")
    assert DetentionFacility.objects.get(code="ANCHOAK").in_use


def test_an_unknown_facility_code_is_refused_and_nothing_changes():
    with pytest.raises(CommandError, match="NOPE"):
        call_command("facility_in_use", "ANCHOAK", "NOPE", "--no")

    assert DetentionFacility.objects.get(code="ANCHOAK").in_use

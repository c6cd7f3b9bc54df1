"""The case page's selects: drawn in Python (``kernel.widgets``), the same markup as Django's, in a
fixed number of queries however many facilities, courts and attorneys there are; the forms behind
the page's disclosures are drawn when one is opened, not with every view of the page."""

from __future__ import annotations

import html
import re

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from casework import services
from casework.forms import CaseFilterForm, CustodyForm, DecisionNewForm
from casework.models import Custodian, DetentionFacility, ImmigrationCourt
from kernel.widgets import FastSelect
from tests.casework.pages import opened_form
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user, **headers) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.DOTALL)
    assert found, f"no select {name!r}"
    return found.group(0)


def _more_reference_data(*, facilities: int, courts: int) -> None:
    """Facilities and courts up to these totals (the migrations load some 490 and 76)."""
    have = DetentionFacility.objects.count()
    DetentionFacility.objects.bulk_create(
        DetentionFacility(code=f"ZZ{i:05d}", name=f"Test Facility {i}", city="Testville", state="ZZ", timezone="UTC")
        for i in range(max(0, facilities - have))
    )
    have = ImmigrationCourt.objects.count()
    ImmigrationCourt.objects.bulk_create(
        ImmigrationCourt(code=f"Z{i:04d}", name=f"Test Court {i}", city="Testville", state="ZZ", timezone="UTC")
        for i in range(max(0, courts - have))
    )


# --- The widget: Django's markup, byte for byte -------------------------------------------------


# Django's template-engine markup (the pages' forms are drawn by Jinja2, whose copies of the same
# templates differ only in blank lines and in how an apostrophe is escaped).
DJANGO_TEMPLATES = DjangoTemplates()

GROUPED = [
    ("", "—"),
    (_("Custody"), [("bond_granted", "Bond granted"), ("bond_denied", "Bond denied")]),
    ("other", "Other"),
    ("", [("loose", "In a group without a name")]),
]


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        ([("", "Unknown"), *((i, f"TX · Facility {i} (El Paso)") for i in range(50))], 7, {"id": "id_f"}),
        ([("", "Unknown"), (1, "One")], None, {"id": "id_f", "required": True, "aria-describedby": "id_f_helptext"}),
        ([(1, "One"), (2, "Two")], "2", {"disabled": True, "class": "wide"}),
        (GROUPED, "bond_denied", {"id": "id_outcome"}),
        (GROUPED, "", {}),
        ([("a&b", "Quote \" and <tag> & 'apostrophe'"), ("x", mark_safe("<b>safe</b>"))], "a&b", {"data-x": '"'}),
        ([(1, "First"), (1, "Same value again")], 1, {}),
    ],
)
def test_fast_select_writes_what_djangos_select_writes(choices, value, attrs):
    expected = forms.Select(choices=choices).render("f", value, attrs=dict(attrs), renderer=DJANGO_TEMPLATES)

    assert FastSelect(choices=choices).render("f", value, attrs=dict(attrs)) == expected


def test_fast_select_labels_are_read_in_the_active_language():
    choices = [(c.value, c.label) for c in Custodian]
    with translation.override("es"):
        expected = forms.Select(choices=choices).render("custodian", Custodian.ICE, renderer=DJANGO_TEMPLATES)
        drawn = FastSelect(choices=choices).render("custodian", Custodian.ICE)

    assert drawn == expected
    assert str(Custodian.RELEASED.label) not in drawn  # translated, not the English label


def test_forms_draw_the_same_markup_as_with_djangos_select(facility):
    """Whole bound fields as the forms give them (labels, ``required``, the help text's id, option groups)."""
    for form, name in [
        (CustodyForm(initial={"custodian": Custodian.ICE, "facility": facility.pk}), "facility"),
        (CustodyForm(initial={"custodian": Custodian.ICE}), "custodian"),
        (DecisionNewForm(initial={"outcome": "bond_denied"}), "outcome"),
        (CaseFilterForm({"court": ImmigrationCourt.objects.order_by("name").last().pk}), "court"),
    ]:
        form.renderer = DJANGO_TEMPLATES
        bound = form[name]
        drawn = str(bound)
        field = form.fields[name]
        field.widget = forms.Select(choices=list(field.choices), attrs=field.widget.attrs)
        assert drawn == str(form[name]), name


# --- The case page -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["case-detail", "custody-change", "appearance-record"])
def test_the_case_page_and_its_forms_cost_the_same_queries_with_500_facilities_and_300_courts(
    assigned_case, attorney, page
):
    client = _client(attorney)
    url = reverse(f"casework:{page}", args=[assigned_case.number])
    client.get(url)  # warm up
    before = _queries(client, url)

    _more_reference_data(facilities=500, courts=300)
    UserFactory.create_batch(20, role=Role.ATTORNEY)
    after = _queries(client, url)

    assert after == before
    assert after <= 30


def test_the_custody_form_shows_the_cases_facility_selected_among_500(assigned_case, attorney, facility):
    _more_reference_data(facilities=500, courts=300)
    page = opened_form(_client(attorney), assigned_case, "custody_form").content.decode()

    select = _select(page, "facility")
    assert select.count("<option") == DetentionFacility.objects.filter(in_use=True).count() + 1  # and "unknown"
    assert re.findall(r'<option value="(\d+)" selected>', select) == [str(facility.pk)]
    assert (
        f'<option value="{facility.pk}" selected>{facility.name} · {facility.city}, {facility.state}'
        + (f" · {facility.code}" if facility.code else "")
        + "</option>"
        in select
    )
    assert '<label for="id_facility">' in page


def test_a_facility_no_longer_used_stays_selected_on_the_case_that_names_it(assigned_case, attorney, facility):
    DetentionFacility.objects.filter(pk=facility.pk).update(in_use=False)
    retired = DetentionFacility.objects.exclude(pk=facility.pk).filter(in_use=True).first()
    DetentionFacility.objects.filter(pk=retired.pk).update(in_use=False)

    page = opened_form(_client(attorney), assigned_case, "custody_form").content.decode()

    select = _select(page, "facility")
    assert f'<option value="{facility.pk}" selected>' in select
    assert f'<option value="{retired.pk}"' not in select  # not in use and not the case's: not offered


def test_the_case_page_selects_are_in_spanish(assigned_case, attorney):
    client = _client(attorney, HTTP_ACCEPT_LANGUAGE="es")
    client.cookies["django_language"] = "es"

    page = opened_form(client, assigned_case, "custody_form", HTTP_HX_REQUEST="true").content.decode()

    with translation.override("es"):
        unknown = str(_("Unknown / not listed"))
        released = str(Custodian.RELEASED.label)
    assert unknown != "Unknown / not listed"
    assert f'<option value="">{unknown}</option>' in _select(page, "facility")
    assert f'<option value="released">{released}</option>' in _select(page, "custodian")


def test_the_attorney_of_record_select_lists_active_attorneys_by_name(assigned_case, attorney, supervisor):
    gone = UserFactory(role=Role.ATTORNEY, full_name="Zoe Gone")
    gone.is_active = False
    gone.save()
    page = opened_form(_client(attorney), assigned_case, "appearance_form").content.decode()

    select = _select(page, "attorney")
    assert f'<option value="{attorney.pk}">Ana Attorney</option>' in select
    assert f'<option value="{supervisor.pk}">Sara Supervisor</option>' in select
    assert "Zoe Gone" not in select


def test_the_case_page_draws_its_closed_forms_only_when_opened(assigned_case, attorney):
    """Each closed disclosure holds a link to its form (a page of its own without JavaScript), which
    htmx replaces with the form itself when the disclosure is first opened."""
    services.relief_save(case=assigned_case, kind="asylum", status="filed", filed_on=None, decided_on=None, by=attorney)
    relief = assigned_case.relief.get()
    client = _client(attorney)
    page = client.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()

    assert "<select" not in page.split('id="notes"')[0]  # no facility, attorney or relief select drawn
    lazy = dict(re.findall(r'<div class="lazy-form" hx-get="([^"]+)" hx-trigger="([^"]+)"', page))
    relief_save = reverse("casework:relief-save", args=[assigned_case.number])
    assert set(lazy) == {
        reverse("casework:custody-change", args=[assigned_case.number]),
        reverse("casework:uac-determination", args=[assigned_case.number]),
        reverse("casework:appearance-record", args=[assigned_case.number]),
        reverse("casework:document-upload", args=[assigned_case.number]),
        relief_save,
        f"{relief_save}?relief={relief.pk}",
    }
    assert set(lazy.values()) == {"toggle from:closest details once"}
    for url in lazy:
        assert f'<a href="{html.escape(url)}">Open the form</a>' in page

    # Opened by htmx: the bare form, sent where the page's form was.
    fragment = client.get(f"{relief_save}?relief={relief.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith(f'<form method="post" action="{relief_save}"')
    assert 'name="csrfmiddlewaretoken"' in fragment
    assert f'<input type="hidden" name="relief" value="{relief.pk}"' in fragment
    assert "<html" not in fragment
    # Without JavaScript: a page of its own, with a way back to the case.
    alone = client.get(reverse("casework:document-upload", args=[assigned_case.number])).content.decode()
    assert "<html" in alone and "Upload a document" in alone and 'type="file"' in alone
    assert f'href="{reverse("casework:case-detail", args=[assigned_case.number])}"' in alone


def test_a_relief_change_form_of_another_case_or_no_number_is_not_found(
    assigned_case, attorney, lawyer, register_case, intake_worker
):
    other = register_case(by=intake_worker, a_number="", given_names="Otra")
    services.relief_save(case=other, kind="asylum", status="filed", filed_on=None, decided_on=None, by=attorney)
    url = reverse("casework:relief-save", args=[assigned_case.number])

    assert lawyer.get(url, {"relief": other.relief.get().pk}).status_code == 404
    assert lawyer.get(url, {"relief": "x"}).status_code == 404


def test_the_edit_page_shows_the_cases_court_selected_among_300(assigned_case, attorney, court):
    _more_reference_data(facilities=500, courts=300)
    type(assigned_case).objects.filter(pk=assigned_case.pk).update(court=court)

    page = _client(attorney).get(reverse("casework:case-edit", args=[assigned_case.number])).content.decode()

    select = _select(page, "court")
    assert select.count("<option") == ImmigrationCourt.objects.count() + 1
    assert f'<option value="{court.pk}" selected>{court.state} · {court.name}</option>' in select


def test_a_court_chosen_on_the_case_list_filter_comes_back_selected(attorney, court):
    page = _client(attorney).get(reverse("casework:case-list"), {"court": court.pk}).content.decode()

    assert f'<option value="{court.pk}" selected>{court.name}</option>' in _select(page, "court")

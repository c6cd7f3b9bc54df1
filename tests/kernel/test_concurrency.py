"""The conflict page's form (``kernel.concurrency.show_conflict``): a field someone else changed
shows their saved value where this person left it alone, and what this person typed where they
changed it; saving that page again goes through."""

from __future__ import annotations

from datetime import date

from django import forms

from kernel.concurrency import VERSION_FIELD, EditConflict, VersionedForm, changed_fields, show_conflict, stamp

OPENED = {"name": "Ana", "city": "Eloy", "on_call": True, "since": date(2026, 1, 5), "kind": "a"}
SAVED_MEANWHILE = {"name": "Ana Luisa", "city": "Tucson", "on_call": False, "since": date(2026, 2, 1), "kind": "a"}
AS_OPENED = {"name": "Ana", "city": "Eloy", "on_call": "on", "since": "2026-01-05", "kind": "a"}


class PlaceForm(VersionedForm):
    name = forms.CharField(label="Name")
    city = forms.CharField(label="City", required=False)
    on_call = forms.BooleanField(label="On call", required=False)
    since = forms.DateField(label="Since", required=False)
    kind = forms.ChoiceField(label="Kind", choices=[("a", "Kind A"), ("b", "Kind B")])


def _conflict_page(sent: dict[str, object], *, prefix: str | None = None) -> PlaceForm:
    """``sent`` posted with the stamp of ``OPENED`` after ``SAVED_MEANWHILE`` was saved."""
    form = PlaceForm(sent, prefix=prefix)
    assert form.is_valid(), form.errors
    changed = changed_fields(form.cleaned_data[VERSION_FIELD], SAVED_MEANWHILE)
    return show_conflict(form, EditConflict(fields=changed, current=SAVED_MEANWHILE))  # type: ignore[return-value]


def test_a_field_left_alone_shows_the_value_saved_since_and_a_changed_one_what_was_typed():
    form = _conflict_page({**AS_OPENED, "name": "Ana María", VERSION_FIELD: stamp(OPENED)})

    assert form.data["name"] == "Ana María"  # changed by both: this person's, named in the message
    assert (form.data["city"], form.data["since"]) == ("Tucson", "2026-02-01")
    assert "on_call" not in form.data  # unticked meanwhile: a browser does not send it
    assert form.data["kind"] == "a"
    message = " ".join(form.non_field_errors())
    assert "Name is now “Ana Luisa”" in message
    assert "City is now “Tucson”" in message
    assert "On call is now “no”" in message
    assert "Kind is now" not in message


def test_saving_the_conflict_page_again_keeps_both_peoples_changes():
    shown = _conflict_page({**AS_OPENED, "name": "Ana María", VERSION_FIELD: stamp(OPENED)}).data

    again = PlaceForm(shown)

    assert again.is_valid(), again.errors
    assert changed_fields(again.cleaned_data[VERSION_FIELD], SAVED_MEANWHILE) == []
    assert {name: again.cleaned_data[name] for name in SAVED_MEANWHILE} == {**SAVED_MEANWHILE, "name": "Ana María"}


def test_a_prefixed_form_is_filled_in_under_its_prefix():
    sent = {f"place-{name}": value for name, value in AS_OPENED.items()}
    form = _conflict_page({**sent, "place-city": "Yuma", "place-version": stamp(OPENED)}, prefix="place")

    assert (form.data["place-city"], form.data["place-name"]) == ("Yuma", "Ana Luisa")
    assert changed_fields(form.data["place-version"], SAVED_MEANWHILE) == []


def test_a_stamp_that_does_not_verify_keeps_everything_as_typed():
    form = _conflict_page({**AS_OPENED, VERSION_FIELD: "forged"})

    assert {name: form.data[name] for name in ("name", "city", "since")} == {
        "name": "Ana",
        "city": "Eloy",
        "since": "2026-01-05",
    }
    assert form.data["on_call"] == "on"
    assert changed_fields(form.data[VERSION_FIELD], SAVED_MEANWHILE) == []

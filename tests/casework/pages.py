"""What the case page's forms send: a deadline's status buttons carry the stamp of the row as the page
showed it; the forms behind the page's disclosures are drawn when one is opened (a GET of the URL
they are sent to), stamped and keyed as of then."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from casework.models import Case
from kernel.concurrency import VERSION_FIELD
from kernel.once import ONCE_FIELD, new_key


def _case_page(client: Client, case: Case) -> Any:
    response = client.get(reverse("casework:case-detail", args=[case.number]))
    assert response.status_code == 200, response.status_code
    return response.context


def deadline_status(client: Client, case: Case, pk: int, status: str) -> dict[str, Any]:
    """The POST of a deadline's status button, with the stamp the case page gave it now."""
    row = next(d for d in _case_page(client, case)["deadlines"] if d.pk == pk)
    return {"status": status, VERSION_FIELD: row.status_form.initial[VERSION_FIELD]}


# The case page's forms by the name ``case_form`` knows them by: the URL each is sent to (and opened from).
FORM_URLS = {
    "custody_form": "casework:custody-change",
    "supervision_form": "casework:custody-supervision",
    "uac_form": "casework:uac-determination",
    "appearance_form": "casework:appearance-record",
    "note_form": "casework:note-add",
    "document_form": "casework:document-upload",
    "relief_form": "casework:relief-save",
}


def opened_form(client: Client, case: Case, form: str, query: dict[str, Any] | None = None, **headers: Any) -> Any:
    """The case page's form ``form`` (``custody_form``, ...) as opening its disclosure draws it now."""
    response = client.get(reverse(FORM_URLS[form], args=[case.number]), query or {}, **headers)
    assert response.status_code == 200, response.status_code
    return response


def relief_change(client: Client, case: Case, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The POST of the change form of the case's relief ``kind``, opened now."""
    row = next(r for r in _case_page(client, case)["relief"] if r.kind == kind)
    form = opened_form(client, case, "relief_form", {"relief": row.pk}).context["form"]
    return {"relief": row.pk, VERSION_FIELD: form.initial[VERSION_FIELD], **data}


def hearing_stamps(client: Client, url: str, data: dict[str, Any]) -> dict[str, Any]:
    """The POST of the hearing page at ``url`` opened now: both its forms' stamps (hearing, outcome)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    form, outcome = response.context["form"], response.context["outcome_form"]
    return {
        **data,
        VERSION_FIELD: form.initial[VERSION_FIELD],
        outcome.add_prefix(VERSION_FIELD): outcome.initial[VERSION_FIELD],
    }


def case_form(client: Client, case: Case, form: str, data: dict[str, Any]) -> dict[str, Any]:
    """The POST of the case page's form ``form`` (``custody_form``, ``uac_form``, ...) opened now:
    its stamp, and a fresh one-time key if it has one."""
    page_form = opened_form(client, case, form).context["form"]
    sent = {**data}
    for name in (VERSION_FIELD, ONCE_FIELD):
        if name in page_form.fields:
            sent[page_form.add_prefix(name)] = page_form.initial.get(name) or new_key()
    return sent

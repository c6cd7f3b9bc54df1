from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form
from django.shortcuts import render

from accounts.models import AccessEvent
from accounts.receivers import client_ip
from accounts.services import access_event_record


def record_view(request, case, what: str = "case") -> None:
    """Every read of a detainee's record is written to the access log."""
    access_event_record(
        user=request.user,
        action=AccessEvent.Action.VIEW,
        object_type=what,
        object_ref=case.number,
        ip_address=client_ip(request),
    )


def apply_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form (field errors where the field exists)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def refused(request, case, exc: ValidationError):
    """A request the case's state does not allow: say why, with a 400."""
    return render(request, "casework/refused.html", {"case": case, "reasons": exc.messages}, status=400)

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest
from accounts.services import access_event_record
from casework.models import Case
from kernel.client_ip import client_ip
from kernel.readlog import logged_read


def record_view(request: AuthenticatedHttpRequest, case: Case, what: str = "case") -> None:
    """Every read of a detainee's record is written to the access log first; if it cannot be, the read is
    refused (``kernel.readlog``): the view's data is never rendered."""
    with logged_read():
        access_event_record(
            user=request.user,
            action=AccessEvent.Action.VIEW,
            object_type=what,
            object_ref=case.number,
            ip_address=client_ip(request),
        )


def refused(request: HttpRequest, case: Case, exc: ValidationError) -> HttpResponse:
    """A request the case's state does not allow: say why, with a 400."""
    return render(request, "casework/refused.html", {"case": case, "reasons": exc.messages}, status=400)

"""Finance's page of parked Stripe webhook events, and its "retry now" action.

An event is parked after ``funds.services.stripe_events.MAX_ATTEMPTS`` failed runs (usually it
names a charge, invoice or subscription we know nothing about). The page shows Stripe's type and
ids, the attempts and the error: no donor or payload data.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import AuthenticatedHttpRequest, role_required
from funds.models import StripeEvent
from funds.permissions import FINANCE_ROLES
from funds.services.stripe_events import MAX_ATTEMPTS, stripe_event_retry
from kernel.client_ip import client_ip


@role_required(*FINANCE_ROLES)
@require_GET
def webhook_events_parked(request: AuthenticatedHttpRequest) -> HttpResponse:
    events = (
        StripeEvent.objects.filter(parked_at__isnull=False, processed_at__isnull=True)
        .only("pk", "event_id", "type", "received_at", "parked_at", "attempts", "error")
        .order_by("-parked_at", "-pk")
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "funds/webhook_parked.html", {"page": page, "max_attempts": MAX_ATTEMPTS})


@role_required(*FINANCE_ROLES)
@require_POST
def webhook_event_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = StripeEvent.objects.filter(pk=pk).first()
    if event is None:
        raise Http404
    try:
        stripe_event_retry(event=event, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Event %(event)s is being processed again. If it still fails, it comes back here.")
            % {"event": event.event_id},
        )
    return redirect("funds:webhook-parked")


urlpatterns = [
    path("finance/stripe-events/parked/", webhook_events_parked, name="webhook-parked"),
    path("finance/stripe-events/<int:pk>/retry/", webhook_event_retry, name="webhook-event-retry"),
]

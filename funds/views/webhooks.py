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
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import AuthenticatedHttpRequest, role_required
from funds.models import StripeEvent
from funds.permissions import FINANCE_ROLES
from funds.services.stripe_events import MAX_ATTEMPTS, stripe_event_retry
from kernel.client_ip import client_ip
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect, submission


@role_required(*FINANCE_ROLES)
@require_GET
def webhook_events_parked(request: AuthenticatedHttpRequest) -> HttpResponse:
    events = (
        StripeEvent.objects.filter(parked_at__isnull=False, processed_at__isnull=True)
        .only("pk", "event_id", "type", "received_at", "parked_at", "attempts", "error")
        .order_by("-parked_at", "-pk")
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(event, OnceForm(auto_id=False)) for event in page.object_list]  # each "retry now" is sent once
    context = {"page": page, "rows": rows, "max_attempts": MAX_ATTEMPTS}
    return render(request, "funds/webhook_parked.html", context)


@role_required(*FINANCE_ROLES)
@require_POST
def webhook_event_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Retry a parked event; the same "retry now" sent twice starts one retry."""
    event = StripeEvent.objects.filter(pk=pk).first()
    if event is None:
        raise Http404
    listing = reverse("funds:webhook-parked")
    form = OnceForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        with submission(key=form.cleaned_data[ONCE_FIELD], form="funds.webhook-retry", user=request.user) as sent:
            stripe_event_retry(event=event, by=request.user, ip_address=client_ip(request))
            sent.result_url = listing
    except AlreadySubmitted as done:
        return already_submitted_redirect(request, done, fallback=listing)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Event %(event)s is being processed again. If it still fails, it comes back here.")
            % {"event": event.event_id},
        )
    return redirect(listing)


urlpatterns = [
    path("finance/stripe-events/parked/", webhook_events_parked, name="webhook-parked"),
    path("finance/stripe-events/<int:pk>/retry/", webhook_event_retry, name="webhook-event-retry"),
]

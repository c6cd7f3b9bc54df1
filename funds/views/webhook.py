"""Stripe's webhook: verify, store once, answer at once; a Celery task does the work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from funds.services.stripe_events import stripe_event_record
from funds.stripe_gateway import WebhookSignatureError, construct_event


# The only csrf_exempt view in Amparo: Stripe cannot send a CSRF token; its signature
# (HMAC with our signing secret, timestamped) authenticates the request instead.
@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """400 and nothing written for a bad signature, stale timestamp or malformed body; otherwise
    the event is stored (a duplicate is acknowledged and not processed again) and 200."""
    try:
        event = construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except WebhookSignatureError:
        return HttpResponseBadRequest("invalid signature", content_type="text/plain")
    stripe_event_record(event=event)
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]

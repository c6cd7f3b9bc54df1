"""Stripe's webhook: verify, store once, answer at once; a Celery task does the work."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.mfa import security_event
from funds.services.stripe_events import stripe_event_record
from funds.stripe_gateway import WebhookSignatureError, construct_event
from kernel.client_ip import client_ip


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
    except WebhookSignatureError as exc:
        # A forged, replayed or broken delivery (ASVS 16.3.3): the sender's address and our own
        # reason, never the body or the signature header.
        security_event(
            "stripe webhook refused", user_id=None, ip_address=client_ip(request), level=logging.WARNING, reason=exc
        )
        return HttpResponseBadRequest("invalid signature", content_type="text/plain; charset=utf-8")
    stripe_event_record(event=event)
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]

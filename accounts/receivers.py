"""Hooks into Django's sign-in signals: thin, they only call services."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from accounts.services import staff_session_ended, staff_session_started
from kernel.client_ip import client_ip

SIGNED_IN_AT = "amparo_signed_in_at"


@receiver(user_logged_in, dispatch_uid="amparo_session_started")
def _session_started(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session[SIGNED_IN_AT] = timezone.now().timestamp()
    if request.session.session_key is None:
        request.session.save()
    staff_session_started(
        user=user,
        session_key=request.session.session_key,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


@receiver(user_logged_out, dispatch_uid="amparo_session_ended")
def _session_ended(sender, request, user, **kwargs) -> None:
    if user is None or request is None:
        return
    staff_session_ended(user=user, session_key=request.session.session_key, ip_address=client_ip(request))

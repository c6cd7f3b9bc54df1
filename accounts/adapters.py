from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.app_settings import REAUTHENTICATION_TIMEOUT
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kernel.client_ip import client_ip
from kernel.enqueue import enqueue_on_commit


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts come only from an administrator's invitation; e-mail goes through Celery."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # Enrolling the first authenticator happens right after the password step, which
        # is compulsory, and the recovery codes are shown right after enrolment (typing a
        # valid code proved possession): asking for the password again would only get in
        # the way. Later visits to the MFA pages do ask.
        if app == "allauth.mfa" and self.request is not None and self.request.user.is_authenticated:
            totp = Authenticator.objects.filter(user=self.request.user, type=Authenticator.Type.TOTP).first()
            if totp is None or totp.created_at > timezone.now() - timedelta(seconds=REAUTHENTICATION_TIMEOUT):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address from the one reader every throttle and log uses.

        allauth keys its per-IP rate limits (``ACCOUNT_RATE_LIMITS``) on this, so behind a
        proxy each client gets its own budget instead of all sharing the proxy's.
        """
        ip = client_ip(request)
        if ip is None:
            # As allauth does: a request we cannot place is refused rather than given a
            # shared rate-limit bucket.
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def get_reset_password_from_key_url(self, key: str) -> str:
        """The reset link on ``SITE_URL``, never on the request's Host header (which a client chooses)."""
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return settings.SITE_URL + path.replace("UID-KEY", quote(key))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {**context, "site_url": settings.SITE_URL}
        message = self.render_mail(template_prefix, email, context)
        html = next((body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), None)
        payload = {
            "subject": message.subject,
            "body": message.body,
            "html": html,
            "to": list(message.to),
            "from_email": message.from_email,
        }
        enqueue_on_commit("accounts.tasks.send_prepared_email", **payload)


class StaffMFAAdapter(DefaultMFAAdapter):
    """Two-step sign-in is compulsory: staff cannot remove their own authenticator.

    An administrator resets it instead (``accounts.services.staff_reset_mfa``).
    """

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return False

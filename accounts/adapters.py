from __future__ import annotations

from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language

from accounts.mfa import mfa_secret_open, mfa_secret_seal, security_event
from kernel.client_ip import client_ip
from kernel.enqueue import enqueue_on_commit

# allauth's e-mails that answer a password-reset request (for an account, for an unknown address).
PASSWORD_RESET_REQUESTED = {
    "account/email/password_reset_key": "password reset requested",
    "account/email/unknown_account": "password reset requested for an address with no account",
}


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts come only from an administrator's invitation; e-mail goes through Celery."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # Enrolling the first authenticator happens right after the password step, which is
        # compulsory: there is nothing to protect yet, and asking again would only get in the
        # way. Every later visit to the MFA pages asks, and the recovery-code pages ask each
        # time they show the codes (``accounts.views.recovery_codes_page``).
        request = self.request
        if (
            app == "allauth.mfa"
            and request is not None
            and request.user.is_authenticated
            and not Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
        ):
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
        """Queue the e-mail by ids; the worker renders it (``accounts.services.account_email_send``).

        A rendered e-mail would carry a password-reset link through the broker: only the template,
        the address, the user's id and the language go. (Sign-up is closed, so allauth's sign-up link
        is never used: the "unknown account" mail points to an administrator.)
        """
        user = context.get("user")
        if template_prefix in PASSWORD_RESET_REQUESTED:
            security_event(
                PASSWORD_RESET_REQUESTED[template_prefix],
                user_id=getattr(user, "pk", None),
                ip_address=client_ip(self.request),
            )
        enqueue_on_commit(
            "accounts.tasks.send_account_email",
            template_prefix=template_prefix,
            email=email,
            user_id=getattr(user, "pk", None),
            language=get_language(),
        )


class StaffMFAAdapter(DefaultMFAAdapter):
    """Two-step sign-in is compulsory: staff cannot remove their own authenticator.

    An administrator resets it instead (``accounts.services.staff_reset_mfa``). The secrets allauth
    stores (TOTP secrets, recovery-code seeds) are sealed with the field keyring (``accounts.mfa``).
    """

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return False

    def encrypt(self, text: str) -> str:
        return mfa_secret_seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secret_open(encrypted_text)

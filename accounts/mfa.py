"""allauth's authenticator-code forms with Amparo's limits (``MFA_FORMS`` in the settings).

The sign-in code step and the re-authentication by code both go through ``accounts.throttling``
before allauth checks the code: a paused account or address gets the 429 page at once, and the
code is not even looked at (so the right code does not get through during a pause either).
"""

from __future__ import annotations

from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django.core.exceptions import ValidationError
from django.shortcuts import render

from accounts import throttling
from accounts.models import User
from kernel.client_ip import client_ip

# allauth's error code for a code that matches no authenticator (not its own rate limit's).
INCORRECT_CODE = "incorrect_code"


class ThrottledCodeMixin:
    """Refuse codes past the limits with a 429 page; count wrong codes; clear the count on a right one."""

    user: User

    def clean_code(self) -> str:
        request = context.request
        ip_address = client_ip(request)
        if not throttling.mfa_code_attempt_allowed(user=self.user, ip_address=ip_address):
            raise ImmediateHttpResponse(render(request, "accounts/code_locked_out.html", status=429))
        try:
            code: str = super().clean_code()  # type: ignore[misc]
        except ValidationError as error:
            if error.code == INCORRECT_CODE:
                throttling.mfa_code_failed(user=self.user, ip_address=ip_address)
            raise
        throttling.mfa_code_succeeded(user=self.user, ip_address=ip_address)
        return code


class StaffAuthenticateForm(ThrottledCodeMixin, AuthenticateForm):
    """The code step of signing in."""


class StaffReauthenticateForm(ThrottledCodeMixin, ReauthenticateForm):
    """Confirming one's identity with a code before a sensitive page (e.g. recovery codes)."""

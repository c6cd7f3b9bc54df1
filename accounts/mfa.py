"""Authenticators: allauth's code forms with Amparo's limits, their secrets sealed, the enrolment link.

**Code forms** (``MFA_FORMS`` in the settings). The sign-in code step and the re-authentication by
code both go through ``accounts.throttling`` before allauth checks the code: a paused account or
address gets the 429 page at once, and the code is not even looked at (so the right code does not
get through during a pause either). Wrong codes and pauses are written to the security log.

**Sealed secrets.** allauth stores a TOTP secret (``data["secret"]``) and the seed the recovery
codes are derived from (``data["seed"]``; codes migrated from elsewhere in ``data["migrated_codes"]``)
in ``mfa_authenticator.data``, through ``MFA_ADAPTER.encrypt()``/``decrypt()``. Ours seal them with
the field keyring (``kernel.crypto``, AES-256-GCM, associated data ``MFA_SECRET_PLACE``), so a
database dump does not give away the second factor. ``manage.py reencrypt`` re-seals them under the
newest key (``mfa_secrets_reseal``, through ``kernel.rotation.reencrypting``).

**Enrolment after a reset.** When an administrator resets someone's authenticator, the password
alone must not be enough to enrol a new one (ASVS 6.4.4): the reset e-mails a link, and enrolment
is refused (``accounts.middleware.RequireMFAMiddleware``) until that link was opened in the session
that enrols. The link's token is bound to the account and to the moment of the reset, so a second
reset voids the first link, and it stops working once an authenticator is enrolled.

**Security log.** ``security_event`` writes one line to the ``amparo.security`` logger: what
happened, the account's id and the client's address, never an e-mail address, a code or a password.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse

from accounts import throttling
from accounts.models import User
from kernel.client_ip import client_ip
from kernel.crypto import keyring, text_key_id

# allauth's error code for a code that matches no authenticator (not its own rate limit's).
INCORRECT_CODE = "incorrect_code"

# --- Security log --------------------------------------------------------------------------

security_log = logging.getLogger("amparo.security")


def security_event(
    event: str, *, user_id: int | None, ip_address: str | None, level: int = logging.INFO, **details: object
) -> None:
    """Log ``event`` on ``amparo.security`` with the account's id and the client's address.

    ``details`` are short facts (factor names, a reason): never an e-mail address, a code, a
    password or a token. The record also carries them as attributes (``security_event``,
    ``user_id``, ``client_ip``) for a structured formatter.
    """
    tail = "".join(f" {name}=%s" for name in details)
    security_log.log(
        level,
        "%s user=%s ip=%s" + tail,
        event,
        user_id if user_id is not None else "-",
        ip_address or "-",
        *details.values(),
        extra={"security_event": event, "user_id": user_id, "client_ip": ip_address},
    )


# --- The code forms ------------------------------------------------------------------------


def _code_kind(code: str) -> str:
    """Which factor a typed code looks like, by its length alone (the code itself is never logged)."""
    digits = "".join(code.split())
    if digits.isdigit() and len(digits) == mfa_settings.TOTP_DIGITS:
        return "totp"
    if digits.isdigit() and len(digits) == mfa_settings.RECOVERY_CODE_DIGITS:
        return "recovery_code"
    return "malformed"


class ThrottledCodeMixin:
    """Refuse codes past the limits with a 429 page; count wrong codes; clear the count on a right one."""

    user: User
    cleaned_data: dict[str, Any]
    reauthentication = False

    def clean_code(self) -> str:
        request = context.request
        ip_address = client_ip(request)
        if not throttling.mfa_code_attempt_allowed(user=self.user, ip_address=ip_address):
            security_event(
                "authenticator code refused: paused after too many wrong codes",
                user_id=self.user.pk,
                ip_address=ip_address,
                level=logging.WARNING,
                reauthentication=self.reauthentication,
            )
            raise ImmediateHttpResponse(render(request, "accounts/code_locked_out.html", status=429))
        kind = _code_kind(str(self.cleaned_data.get("code", "")))
        try:
            code: str = super().clean_code()  # type: ignore[misc]
        except ValidationError as error:
            if error.code == INCORRECT_CODE:
                throttling.mfa_code_failed(user=self.user, ip_address=ip_address)
                security_event(
                    "authenticator code wrong",
                    user_id=self.user.pk,
                    ip_address=ip_address,
                    level=logging.WARNING,
                    kind=kind,
                    reauthentication=self.reauthentication,
                )
            raise
        throttling.mfa_code_succeeded(user=self.user, ip_address=ip_address)
        return code


class StaffAuthenticateForm(ThrottledCodeMixin, AuthenticateForm):
    """The code step of signing in."""


class StaffReauthenticateForm(ThrottledCodeMixin, ReauthenticateForm):
    """Confirming one's identity with a code before a sensitive page (e.g. recovery codes)."""

    reauthentication = True


# --- Sealed secrets ------------------------------------------------------------------------

# The associated data of every sealed authenticator value (the migration that sealed the existing
# ones, accounts/migrations/0004, repeats it).
MFA_SECRET_PLACE = "mfa.authenticator.secret"
# The keys of ``Authenticator.data`` that allauth passes through ``encrypt()``: text values, and
# lists of text values.
_SEALED_TEXTS = ("secret", "seed")
_SEALED_LISTS = ("migrated_codes",)
_BATCH = 500


def mfa_secret_seal(text: str) -> str:
    """``text`` (a TOTP secret, a recovery-code seed) sealed under the newest field key."""
    return keyring().encrypt_text(text, place=MFA_SECRET_PLACE)


def mfa_secret_open(token: str) -> str:
    """The secret sealed in ``token``; ``kernel.crypto.DecryptionError`` for a plain, damaged or
    foreign value, or one under a key that is no longer configured (fail closed: no sign-in)."""
    return keyring().decrypt_text(token, place=MFA_SECRET_PLACE)


def _sealed_values_mapped(data: dict[str, Any], convert: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``data`` with ``convert`` applied to every value allauth encrypts."""
    data = dict(data)
    for name in _SEALED_TEXTS:
        if isinstance(data.get(name), str) and data[name]:
            data[name] = convert(data[name])
    for name in _SEALED_LISTS:
        if isinstance(data.get(name), list):
            data[name] = [convert(v) if isinstance(v, str) and v else v for v in data[name]]
    return data


def mfa_secrets_reseal(*, dry_run: bool = False) -> tuple[Counter[str], int]:
    """Re-seal every authenticator secret that is not under the newest field key (or not sealed).

    Returns what was found, by key id (``"plain"`` for an unsealed value), and how many values were
    rewritten. Side effects (unless ``dry_run``): ``Authenticator.data`` rewritten, one transaction
    per batch, each row locked while it is rewritten so that a recovery code used at the same time
    is not lost. A value under a key that is no longer configured raises
    ``kernel.crypto.DecryptionError`` (the batch is rolled back).
    """
    ring = keyring()
    found: Counter[str] = Counter()
    rewritten = 0

    def reseal(value: str) -> str:
        nonlocal rewritten
        kid = text_key_id(value) or "plain"
        found[kid] += 1
        if kid == ring.primary_id or dry_run:
            return value
        plain = value if kid == "plain" else ring.decrypt_text(value, place=MFA_SECRET_PLACE)
        rewritten += 1
        return ring.encrypt_text(plain, place=MFA_SECRET_PLACE)

    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                Authenticator.objects.select_for_update()
                .exclude(type=Authenticator.Type.WEBAUTHN)
                .filter(pk__gt=last)
                .order_by("pk")[:_BATCH]
            )
            for row in rows:
                data = _sealed_values_mapped(row.data, reseal)
                if data != row.data:
                    Authenticator.objects.filter(pk=row.pk).update(data=data)
        if len(rows) < _BATCH:
            return found, rewritten
        last = rows[-1].pk


# --- The enrolment link after a reset ------------------------------------------------------

# Where the session keeps the token of the enrolment link it opened.
ENROLMENT_TOKEN_SESSION_KEY = "amparo_mfa_enrolment_token"
# The query parameter that carries the token on the enrolment page's URL.
ENROLMENT_TOKEN_PARAMETER = "enrol"


class MFAEnrolmentTokenGenerator(PasswordResetTokenGenerator):
    """Tokens of the e-mailed enrolment link: valid ``PASSWORD_RESET_TIMEOUT``, for one account and
    one reset (the time of the reset is hashed in, so a second reset voids the first link)."""

    key_salt = "accounts.mfa.MFAEnrolmentTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        reset_at = user.mfa_reset_at
        return f"{user.pk}:{timestamp}:{reset_at.timestamp() if reset_at else ''}:{int(user.is_active)}"


mfa_enrolment_tokens = MFAEnrolmentTokenGenerator()


# The attribute on a request's user that says whether a TOTP authenticator was enrolled when the
# user was loaded for this request (``accounts.backends.StaffAuthenticationBackend.get_user``
# reads it in the user's own query). It lives on that one request's user object only: an
# authenticator removed is missed by no later request.
AUTHENTICATOR_ENROLLED_ATTRIBUTE = "_amparo_has_authenticator"


def mfa_enrolled(user: User) -> bool:
    """Whether ``user`` has a TOTP authenticator: from the request's user load when it was read
    there, otherwise one query."""
    known = getattr(user, AUTHENTICATOR_ENROLLED_ATTRIBUTE, None)
    if isinstance(known, bool):
        return known
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_enrolment_needs_link(user: User) -> bool:
    """Whether ``user``'s authenticator was reset by an administrator and none is enrolled yet."""
    return (
        user.mfa_reset_at is not None
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


def mfa_enrolment_token_valid(user: User, token: object) -> bool:
    """Whether ``token`` is the current enrolment link's token of ``user``."""
    return (
        isinstance(token, str)
        and user.mfa_reset_at is not None
        and user.is_active
        and mfa_enrolment_tokens.check_token(user, token)
    )


def mfa_enrolment_url(user: User) -> str:
    """The enrolment link e-mailed after a reset: the enrolment page, with the token (on ``SITE_URL``)."""
    token = mfa_enrolment_tokens.make_token(user)
    return f"{settings.SITE_URL}{reverse('mfa_activate_totp')}?{urlencode({ENROLMENT_TOKEN_PARAMETER: token})}"


def mfa_enrolment_proven(session: SessionBase, user: User) -> bool:
    """Whether this session opened ``user``'s current enrolment link."""
    return mfa_enrolment_token_valid(user, session.get(ENROLMENT_TOKEN_SESSION_KEY))

"""Hooks into Django's and allauth's sign-in signals, and kernel's re-encryption: thin, they only
call a service or write one line to the security log (``accounts.mfa.security_event``)."""

from allauth.account import signals as account_signals
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from accounts.mfa import mfa_secrets_reseal, security_event
from accounts.services import staff_session_ended, staff_session_started
from kernel.client_ip import client_ip
from kernel.rotation import reencrypting

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


@receiver(reencrypting, dispatch_uid="amparo_mfa_secrets_reseal")
def _mfa_secrets_reseal(sender, dry_run: bool, **kwargs):
    return mfa_secrets_reseal(dry_run=dry_run)


# --- The security log (ASVS 16.3.1) ------------------------------------------------------------


def factors_used(request) -> str:
    """The factors of this session's sign-in, in order: ``"password+totp"``, ``"password+recovery_codes"``.

    From allauth's record of the session's authentication steps (method names and authenticator
    types only; the record's e-mail address is never read).
    """
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) if hasattr(request, "session") else None
    factors: list[str] = []
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict) or record.get("reauthenticated"):
            continue
        factor = str(record.get("type") if record.get("method") == "mfa" else record.get("method"))
        if factor not in factors:
            factors.append(factor)
    return "+".join(factors) or "unknown"


def _ip(request) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(account_signals.user_logged_in, dispatch_uid="amparo_security_signed_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    security_event("sign-in completed", user_id=user.pk, ip_address=_ip(request), factors=factors_used(request))


@receiver(account_signals.password_reset, dispatch_uid="amparo_security_password_reset")
def _password_reset(sender, request, user, **kwargs) -> None:
    # Also how an invited person sets their first password (the invitation is a reset link).
    security_event("password reset done", user_id=user.pk, ip_address=_ip(request))


@receiver(account_signals.password_changed, dispatch_uid="amparo_security_password_changed")
def _password_changed(sender, request, user, **kwargs) -> None:
    security_event("password changed", user_id=user.pk, ip_address=_ip(request))


@receiver(account_signals.password_set, dispatch_uid="amparo_security_password_set")
def _password_set(sender, request, user, **kwargs) -> None:
    security_event("password set", user_id=user.pk, ip_address=_ip(request))


@receiver(mfa_signals.authenticator_added, dispatch_uid="amparo_security_authenticator_added")
def _authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    security_event("authenticator added", user_id=user.pk, ip_address=_ip(request), kind=authenticator.type)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="amparo_security_authenticator_removed")
def _authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    security_event("authenticator removed", user_id=user.pk, ip_address=_ip(request), kind=authenticator.type)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="amparo_security_authenticator_reset")
def _authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    # allauth's "reset" is new recovery codes made by their owner (not an administrator's reset).
    security_event("authenticator renewed", user_id=user.pk, ip_address=_ip(request), kind=authenticator.type)


@receiver(mfa_signals.authenticator_used, dispatch_uid="amparo_security_authenticator_used")
def _authenticator_used(sender, request, user, authenticator, reauthenticated=False, **kwargs) -> None:
    if reauthenticated:  # a sign-in is logged once complete, with all its factors
        security_event("re-authenticated", user_id=user.pk, ip_address=_ip(request), factors=authenticator.type)

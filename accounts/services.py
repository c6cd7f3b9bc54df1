"""Every write to staff accounts. Each function is atomic; its docstring lists side effects."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.mfa import mfa_enrolment_url, security_event
from accounts.models import AccessEvent, StaffSession, User
from accounts.roles import ROLE_CACHE_ATTRIBUTE, ROLE_NAMES, Role
from accounts.signals import staff_deactivated
from kernel.enqueue import enqueue_on_commit


def access_event_record(
    *,
    user: User,
    action: AccessEvent.Action,
    object_type: str = "",
    object_ref: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> AccessEvent:
    """Append one row to the access log. Never pass a detainee's personal data."""
    return AccessEvent.objects.create(
        user=user,
        action=action,
        object_type=object_type,
        object_ref=object_ref[:200],
        detail=detail[:300],
        ip_address=ip_address or None,
    )


def _staff_changed(*, user: User, by: User, detail: str, ip_address: str | None) -> None:
    """The access-log row of an administrator's change to a staff account."""
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="staff",
        object_ref=user.email,
        detail=detail,
        ip_address=ip_address,
    )


def user_role_groups_set(*, user: User, role: Role) -> None:
    """Make ``role`` the user's only role group (not audited: callers record who did it).

    Side effects: group membership; ``is_staff`` follows the administrator role (Django's
    admin checks it); the role cached on the user object is forgotten.
    """
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.remove(*Group.objects.filter(name__in=ROLE_NAMES).exclude(pk=group.pk))
    user.groups.add(group)
    user.is_staff = role == Role.ADMIN  # Django's admin also checks is_staff
    user.save(update_fields=["is_staff"])
    user.__dict__.pop(ROLE_CACHE_ATTRIBUTE, None)


@transaction.atomic
def staff_invite(*, email: str, full_name: str, role: Role, by: User, ip_address: str | None = None) -> User:
    """Create a staff account with the given role and e-mail an invitation to set a password.

    Side effects: an ``AccessEvent`` (change, staff); after commit, the Celery task
    ``send_invitation_email`` is enqueued. The new account has no usable password until
    the invitation is accepted, and must enrol an authenticator at its first sign-in.
    """
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A staff account with this e-mail address already exists.")})
    user = User.objects.create_user(email=email, password=None, full_name=full_name.strip())
    user.invited_by = by
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_by", "invited_at"])
    user_role_groups_set(user=user, role=role)
    _staff_changed(user=user, by=by, detail=f"invited as {role.value}", ip_address=ip_address)
    _enqueue_invitation(user)
    return user


def _enqueue_invitation(user: User) -> None:
    enqueue_on_commit("accounts.tasks.send_invitation_email", user_id=user.pk)


@transaction.atomic
def staff_resend_invitation(*, user: User, by: User, ip_address: str | None = None) -> None:
    """Send a fresh invitation link to someone who has not yet set a password.

    Side effects: ``invited_at`` is reset; an ``AccessEvent``; the invitation task is
    enqueued after commit.
    """
    if user.has_usable_password():
        raise ValidationError(_("This person has already accepted the invitation."))
    if not user.is_active:
        raise ValidationError(_("Reactivate the account before sending a new invitation."))
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    _staff_changed(user=user, by=by, detail="invitation sent again", ip_address=ip_address)
    _enqueue_invitation(user)


def invitation_url(user: User) -> str:
    """The single-use link with which an invited person sets a password (valid PASSWORD_RESET_TIMEOUT)."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return settings.SITE_URL + path.replace("UID-KEY", key)


def staff_send_invitation_email(*, user: User) -> None:
    """E-mail the invitation link to ``user`` (called by the Celery task).

    Side effect: one e-mail. The subject names no one.
    """
    context = {
        "user": user,
        "url": invitation_url(user),
        "invited_by": user.invited_by,
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Amparo] You are invited to Amparo")
        body = render_to_string("accounts/email/invitation.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[user.email])
    message.send()


@transaction.atomic
def staff_set_role(*, user: User, role: Role, by: User, ip_address: str | None = None) -> None:
    """Give ``user`` exactly one role (replacing the previous one).

    Side effects: group membership and ``is_staff`` change; an ``AccessEvent``.
    An administrator cannot remove their own administrator role (someone must remain).
    """
    if user.pk == by.pk and role != Role.ADMIN:
        raise ValidationError(_("You cannot take away your own administrator role."))
    user_role_groups_set(user=user, role=role)
    _staff_changed(user=user, by=by, detail=f"role set to {role.value}", ip_address=ip_address)


def _session_store() -> type[SessionBase]:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def _end_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """End every recorded session of ``user`` but the one with ``keep_session_key``.

    Returns how many rows there were. Side effects: the sessions are deleted from the session
    store (whatever the engine), and their ``StaffSession`` rows go.
    """
    rows = StaffSession.objects.filter(user=user)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    store_class = _session_store()
    for key in keys:
        store_class(session_key=key).delete()
    rows.delete()
    return len(keys)


@transaction.atomic
def staff_deactivate(*, user: User, by: User, ip_address: str | None = None) -> int:
    """Deactivate a leaver: they cannot sign in, and every open session ends at once.

    Returns the number of sessions ended. Side effects: ``is_active`` off,
    ``deactivated_at``/``deactivated_by`` set, session rows deleted, every open case they
    lead flagged for reassignment (by casework's receiver of ``staff_deactivated``, in this
    transaction), an ``AccessEvent``.
    """
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not user.is_active:
        raise ValidationError(_("This account is already deactivated."))
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.deactivated_by = by
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    ended = _end_sessions(user)
    # django-stubs types receivers' results as ``str | None``; a receiver returns anything.
    responses: Sequence[tuple[object, object]] = staff_deactivated.send(sender=User, user=user, by=by)
    flagged = sum(result for _receiver, result in responses if isinstance(result, int))
    _staff_changed(
        user=user,
        by=by,
        detail=f"deactivated; {ended} session(s) ended; {flagged} case(s) flagged for reassignment",
        ip_address=ip_address,
    )
    return ended


@transaction.atomic
def staff_reactivate(*, user: User, by: User, ip_address: str | None = None) -> None:
    """Let a deactivated staff member sign in again. Side effect: an ``AccessEvent``."""
    if user.is_active:
        raise ValidationError(_("This account is already active."))
    user.is_active = True
    user.deactivated_at = None
    user.deactivated_by = None
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    _staff_changed(user=user, by=by, detail="reactivated", ip_address=ip_address)


@transaction.atomic
def staff_reset_mfa(*, user: User, by: User, ip_address: str | None = None) -> None:
    """Remove a staff member's authenticator and recovery codes (a lost phone).

    They must enrol a new authenticator at their next sign-in, and the password alone is not
    enough for that (ASVS 6.4.4): they are e-mailed a link that must be opened in the session that
    enrols (``accounts.mfa``, ``accounts.middleware.RequireMFAMiddleware``), as the invitation once
    proved their control of the address. Side effects: their authenticators are deleted,
    ``mfa_reset_at`` is set (which voids an earlier enrolment link), their open sessions end, an
    ``AccessEvent``, a line in the security log; after commit, the task
    ``send_mfa_enrolment_email`` is enqueued.
    """
    if user.pk == by.pk:
        raise ValidationError(_("Ask another administrator to reset your own authenticator."))
    Authenticator.objects.filter(user=user).delete()
    user.mfa_reset_at = timezone.now()
    user.save(update_fields=["mfa_reset_at"])
    _end_sessions(user)
    _staff_changed(user=user, by=by, detail="authenticator reset; enrolment link e-mailed", ip_address=ip_address)
    security_event("authenticator reset by an administrator", user_id=user.pk, ip_address=ip_address, by=by.pk)
    enqueue_on_commit("accounts.tasks.send_mfa_enrolment_email", user_id=user.pk)


def staff_send_mfa_enrolment_email(*, user: User) -> None:
    """E-mail ``user`` the link that lets them enrol a new authenticator (called by the Celery task).

    The link is made here, in the worker, so that its token never crosses the broker. Side effect:
    one e-mail. The subject names no one.
    """
    context = {
        "user": user,
        "url": mfa_enrolment_url(user),
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Amparo] Set up your new authenticator")
        body = render_to_string("accounts/email/mfa_enrolment.txt", context)
    EmailMultiAlternatives(subject=subject, body=body, to=[user.email]).send()


# --- Staff sessions: recorded, seen, ended ----------------------------------------------------

# (what the User-Agent contains, what we keep); the first that matches wins, so that Chrome's
# "Safari/" and Android's "Linux" do not count.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_PLATFORMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def device_of(user_agent: str) -> tuple[str, str]:
    """The browser family and the system, e.g. ``("Chrome", "Android")``; ``""`` for what is not known.

    Only these coarse names are kept for a session, never the User-Agent itself (it narrows a
    person down to a device).
    """
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    platform = next((name for marker, name in _PLATFORMS if marker in user_agent), "")
    return browser, platform


def _session_is_open(row: StaffSession, user: User) -> bool:
    """Whether the session still signs ``user`` in: it exists, has not expired, and was made
    with the current password (Django's session hash, which a password change renews)."""
    data = _session_store()(session_key=row.session_key).load()
    return (
        user.is_active
        and str(data.get(SESSION_KEY)) == str(user.pk)
        and constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash())
    )


def staff_sessions_open(*, user: User) -> list[StaffSession]:
    """The sessions of ``user`` that still work, newest first (one session-store read each).

    Rows of sessions that ended without a sign-out (expired, or a password reset since) are
    left out; they are forgotten at the user's next sign-in.
    """
    return [
        row for row in StaffSession.objects.filter(user=user).order_by("-started_at") if _session_is_open(row, user)
    ]


@transaction.atomic
def staff_session_started(*, user: User, session_key: str, ip_address: str | None, user_agent: str) -> None:
    """Record a new signed-in session.

    Side effects: a ``StaffSession`` row (with the coarse browser and system of ``user_agent``,
    not the User-Agent itself); the rows of the user's sessions that no longer work are deleted;
    an ``AccessEvent``.
    """
    browser, platform = device_of(user_agent)
    StaffSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "ip_address": ip_address or None,
            "browser": browser,
            "platform": platform,
            "last_seen_at": timezone.now(),
        },
    )
    ended = [
        row.pk
        for row in StaffSession.objects.filter(user=user).exclude(session_key=session_key)
        if not _session_is_open(row, user)
    ]
    StaffSession.objects.filter(pk__in=ended).delete()
    access_event_record(
        user=user, action=AccessEvent.Action.SIGN_IN, object_type="staff", object_ref=user.email, ip_address=ip_address
    )


@transaction.atomic
def staff_session_rekeyed(*, old_key: str, new_key: str) -> None:
    """A session got a new key (re-authentication, password change). Side effect: its row follows it."""
    StaffSession.objects.filter(session_key=old_key).update(session_key=new_key)


def staff_session_seen(*, session_key: str) -> None:
    """Side effect: the session's ``last_seen_at`` is now (callers do this at most once a minute)."""
    StaffSession.objects.filter(session_key=session_key).update(last_seen_at=timezone.now())


@transaction.atomic
def staff_session_end(*, user: User, session_id: int, current_session_key: str | None, ip_address: str | None) -> None:
    """``user`` ends one of their own other sessions (a computer they left signed in).

    Raises ``StaffSession.DoesNotExist`` for a session that is not theirs or is gone, and
    ``ValidationError`` for the session in use (signing out ends that one). Side effects: the
    session is deleted from the session store, its row goes, an ``AccessEvent`` (change, staff).
    """
    row = StaffSession.objects.get(pk=session_id, user=user)
    if row.session_key == current_session_key:
        raise ValidationError(_("This is the session you are using now. To end it, sign out."))
    _session_store()(session_key=row.session_key).delete()
    row.delete()
    access_event_record(
        user=user,
        action=AccessEvent.Action.CHANGE,
        object_type="staff",
        object_ref=user.email,
        detail="signed out one of their other sessions",
        ip_address=ip_address,
    )


@transaction.atomic
def staff_sessions_end_others(
    *, user: User, current_session_key: str | None, ip_address: str | None, reason: str = ""
) -> int:
    """End every session of ``user`` but the one in use ("sign out everywhere else").

    ``reason`` says what led to it for the log ("password changed"). Returns how many ended.
    Side effects: those sessions are deleted from the session store, their rows go, an
    ``AccessEvent`` (change, staff).
    """
    ended = _end_sessions(user, keep_session_key=current_session_key)
    what = f"signed out of {ended} other session(s)"
    access_event_record(
        user=user,
        action=AccessEvent.Action.CHANGE,
        object_type="staff",
        object_ref=user.email,
        detail=f"{reason}; {what}" if reason else what,
        ip_address=ip_address,
    )
    return ended


@transaction.atomic
def staff_sign_out_everywhere(*, user: User, by: User, ip_address: str | None = None) -> int:
    """An administrator ends every session of ``user`` at once (a lost laptop, a suspicion).

    Returns how many ended. The person can sign in again (deactivation is for leavers).
    Side effects: their sessions are deleted from the session store, their rows go, an
    ``AccessEvent`` (change, staff) by the administrator.
    """
    if user.pk == by.pk:
        raise ValidationError(_("To end your own other sessions, use the page Your sessions."))
    ended = _end_sessions(user)
    _staff_changed(
        user=user, by=by, detail=f"signed out of every session; {ended} session(s) ended", ip_address=ip_address
    )
    return ended


@transaction.atomic
def sessions_end_all(*, by: User, current_session_key: str | None, ip_address: str | None = None) -> int:
    """An administrator signs everyone out at once (a suspected breach, a stolen key): every staff
    and donor session but the administrator's own ends.

    Returns how many sessions ended. Everyone can sign in again. Side effects: the sessions are
    deleted from the session store, the ``StaffSession`` rows go, an ``AccessEvent`` (change, staff).
    """
    store = _session_store()
    if not hasattr(store, "get_model_class"):
        raise ImproperlyConfigured("Signing everyone out needs a database-backed SESSION_ENGINE.")
    sessions = store.get_model_class().objects.exclude(session_key=current_session_key or "")
    ended, _per_model = sessions.delete()
    StaffSession.objects.exclude(session_key=current_session_key or "").delete()
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="staff",
        object_ref="everyone",
        detail=f"signed everyone out; {ended} session(s) ended",
        ip_address=ip_address,
    )
    return int(ended)


@transaction.atomic
def staff_session_ended(*, user: User, session_key: str | None, ip_address: str | None) -> None:
    """Forget a session at sign-out. Side effects: the ``StaffSession`` row goes, an ``AccessEvent``."""
    if session_key:
        StaffSession.objects.filter(session_key=session_key).delete()
    access_event_record(
        user=user, action=AccessEvent.Action.SIGN_OUT, object_type="staff", object_ref=user.email, ip_address=ip_address
    )


# --- allauth's e-mails, rendered in the worker ------------------------------------------------------

PASSWORD_RESET_PREFIX = "account/email/password_reset_key"


def account_email_send(*, template_prefix: str, email: str, user_id: int | None, language: str | None) -> None:
    """Render and send one of allauth's e-mails in the worker, from ids (``StaffAccountAdapter.send_mail``).

    Nothing secret or personal crosses the broker: a password-reset link is made here, with a fresh
    token for the user (allauth's own token generator, so its reset view accepts it), on ``SITE_URL``.
    The context is the e-mail address, the user and the site; allauth's request-bound values (the
    request, the site object) are not needed by our templates.
    """
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    if user_id is not None and user is None:
        return  # the account is gone: nothing to send
    adapter = get_account_adapter()
    context: dict[str, object] = {"email": email, "user": user, "site_url": settings.SITE_URL}
    if template_prefix == PASSWORD_RESET_PREFIX:
        if user is None or not user.is_active:
            return
        key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
        context["password_reset_url"] = adapter.get_reset_password_from_key_url(key)
    with translation.override(language or settings.LANGUAGE_CODE):
        adapter.render_mail(template_prefix, email, context).send()

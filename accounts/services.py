"""Every write to staff accounts. Each function is atomic; its docstring lists side effects."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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


def _end_sessions(user: User) -> int:
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(StaffSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store_class(session_key=key).delete()
    StaffSession.objects.filter(user=user).delete()
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

    They must enrol a new authenticator at their next sign-in. Side effects: their
    authenticators are deleted, their open sessions end, an ``AccessEvent``.
    """
    if user.pk == by.pk:
        raise ValidationError(_("Ask another administrator to reset your own authenticator."))
    Authenticator.objects.filter(user=user).delete()
    _end_sessions(user)
    _staff_changed(user=user, by=by, detail="authenticator reset", ip_address=ip_address)


@transaction.atomic
def staff_session_started(*, user: User, session_key: str, ip_address: str | None, user_agent: str) -> None:
    """Record a new signed-in session. Side effects: a ``StaffSession`` row, an ``AccessEvent``."""
    StaffSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip_address": ip_address or None, "user_agent": user_agent[:300]},
    )
    access_event_record(
        user=user, action=AccessEvent.Action.SIGN_IN, object_type="staff", object_ref=user.email, ip_address=ip_address
    )


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

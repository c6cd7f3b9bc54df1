"""Thin Celery tasks: ids in, fetch, call a service. Safe to run twice.

Services enqueue these by name (``kernel.enqueue``), so this module may import them. Each retries
passing faults (``kernel.retry``: SMTP, the network, a database restart or killed connection) with
backoff; each checks first whether its e-mail is still due, so a retry never sends a stale one.
"""

from __future__ import annotations

from celery import shared_task

from accounts.mfa import mfa_enrolment_needs_link
from accounts.models import User
from accounts.services import account_email_send, staff_send_invitation_email, staff_send_mfa_enrolment_email
from kernel.retry import TRANSIENT_RETRY


@shared_task(name="accounts.tasks.send_invitation_email", **TRANSIENT_RETRY)
def send_invitation_email(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return  # deactivated, or the invitation was already accepted
    staff_send_invitation_email(user=user)


@shared_task(name="accounts.tasks.send_account_email", **TRANSIENT_RETRY)
def send_account_email(*, template_prefix: str, email: str, user_id: int | None, language: str | None = None) -> None:
    """One of allauth's e-mails (password reset, unknown account), rendered here from ids."""
    account_email_send(template_prefix=template_prefix, email=email, user_id=user_id, language=language)


@shared_task(name="accounts.tasks.send_mfa_enrolment_email", **TRANSIENT_RETRY)
def send_mfa_enrolment_email(*, user_id: int) -> None:
    """The link to enrol a new authenticator after an administrator's reset, rendered here from the id."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not mfa_enrolment_needs_link(user):
        return  # deactivated, or already enrolled again
    staff_send_mfa_enrolment_email(user=user)

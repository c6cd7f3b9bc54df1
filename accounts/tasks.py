"""Thin Celery tasks: ids in, fetch, call a service. Safe to run twice.

Services enqueue these by name (``kernel.enqueue``), so this module may import them.
"""

from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

from accounts.models import User
from accounts.services import staff_send_invitation_email


@shared_task(
    name="accounts.tasks.send_invitation_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 8},
)
def send_invitation_email(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return  # deactivated, or the invitation was already accepted
    staff_send_invitation_email(user=user)


@shared_task(
    name="accounts.tasks.send_prepared_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 8},
)
def send_prepared_email(*, subject: str, body: str, to: list[str], from_email: str, html: str | None = None) -> None:
    """Send an e-mail rendered in the request (allauth's password-reset and notice mails)."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, from_email=from_email)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()

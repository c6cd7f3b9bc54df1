"""The two tables the kernel keeps: the outbox of work to do after a commit, and forms' one-time keys.

Both are infrastructure every app uses with one behaviour (``kernel.enqueue``, ``kernel.once``);
neither knows what the work or the form is about beyond a name.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kernel.fields import EncryptedTextField


class OutboxMessage(models.Model):
    """A task to send to Celery once the transaction that wrote this row has committed.

    Written in the same transaction as the work that needs it (``kernel.enqueue.enqueue_on_commit``),
    so the work and the request to finish it commit together or not at all. The commit hook sends it;
    if the broker is down then, the outbox sweep (a beat task) sends it later. ``sent_at`` is set only
    after the broker took the message. The arguments are ids and plain values, encrypted at rest all
    the same: an address typed on the password-reset form is one of them.
    """

    task_name = models.CharField(max_length=200)
    arguments = EncryptedTextField(help_text="The task's keyword arguments as JSON.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, help_text="The last failure's exception class only.")

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="kernel_outbox_unsent"),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="kernel_outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class SubmissionKey(models.Model):
    """A form's one-time key, claimed by the first submission that carried it (``kernel.once``).

    The row is inserted in the transaction that does the form's work, so it commits with that work
    or not at all; a second submission with the same key finds it (on PostgreSQL it waits at the
    unique index until the first commits) and is shown the first one's result.
    """

    key = models.CharField(max_length=64, unique=True)
    form = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    result_url = models.CharField(max_length=500, blank=True, help_text="Where the first submission's result is.")

    def __str__(self) -> str:
        return f"{self.form} {self.created_at:%Y-%m-%d %H:%M}"

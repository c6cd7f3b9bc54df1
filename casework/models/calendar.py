"""Calendar feeds and reminder bookkeeping."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CalendarFeed(models.Model):
    """An attorney's secret calendar URL. Only the token's SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="casework_one_live_feed"
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.pk} of user {self.user_id}"


class ReminderSent(models.Model):
    """An item (hearing or deadline) already included in a user's digest on a day."""

    class Item(models.TextChoices):
        HEARING = "hearing"
        DEADLINE = "deadline"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item_kind = models.CharField(max_length=10, choices=Item.choices)
    item_id = models.PositiveBigIntegerField()
    sent_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item_kind", "item_id", "sent_on"], name="casework_reminder_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_kind} {self.item_id} to {self.user_id} on {self.sent_on}"

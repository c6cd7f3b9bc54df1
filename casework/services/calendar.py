from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from casework.models import CalendarFeed


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user: User) -> str:
    """Give ``user`` a new secret calendar URL token, revoking any previous one.

    Returns the token (shown once; only its SHA-256 is stored).
    """
    calendar_feed_revoke(user=user)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(user=user, token_sha256=token_digest(token))
    return token


@transaction.atomic
def calendar_feed_revoke(*, user: User) -> int:
    """Revoke ``user``'s calendar URL; calendar apps get 404 from then on."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())

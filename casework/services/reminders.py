from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from casework.models import Assignment, CaseStatus, Deadline, DeadlineStatus, Hearing, ReminderSent
from kernel.clock import booking_day_start


@dataclass
class Digest:
    hearings: list[Hearing] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.hearings or self.deadlines)


def reminder_digest(*, user: User, today: date) -> Digest:
    """Hearings in the next 2 days and open deadlines due within 7 (or overdue) on ``user``'s
    open cases, minus what was already sent to them today."""
    cases = (
        Assignment.objects.filter(attorney=user, ended_at__isnull=True)
        .exclude(case__status=CaseStatus.CLOSED)
        .values("case")
    )
    sent = ReminderSent.objects.filter(user=user, sent_on=today)
    # "The next 2 days" of ``today``: from now (or that day's start) to the end of the day after tomorrow.
    day_start = booking_day_start(today)
    window_start = max(timezone.now(), day_start)
    window_end = day_start + timedelta(days=3)
    hearings = (
        Hearing.objects.filter(case__in=cases, starts_at__gte=window_start, starts_at__lt=window_end)
        .exclude(pk__in=sent.filter(item_kind=ReminderSent.Item.HEARING).values("item_id"))
        .select_related("case", "court")
        .order_by("starts_at")
    )
    deadlines = (
        Deadline.objects.filter(case__in=cases, status=DeadlineStatus.OPEN, due_on__lte=today + timedelta(days=7))
        .exclude(pk__in=sent.filter(item_kind=ReminderSent.Item.DEADLINE).values("item_id"))
        .select_related("case")
        .order_by("due_on")
    )
    return Digest(hearings=list(hearings), deadlines=list(deadlines))


def reminder_send_digest(*, user_id: int, today: date) -> bool:
    """E-mail one attorney today's digest; an item goes out at most once a day.

    Side effects: ``ReminderSent`` rows for every item included; one e-mail whose subject
    names no one and whose body has case numbers, hearing types, courts and deadlines
    only. Returns whether an e-mail was sent.
    """
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    # Recorded and sent in one transaction: if the e-mail fails, the rows roll back and the
    # task's retry sends it; a concurrent second run hits the unique constraint instead.
    try:
        with transaction.atomic():
            digest = reminder_digest(user=user, today=today)
            if not digest:
                return False
            ReminderSent.objects.bulk_create(
                [ReminderSent(user=user, item_kind="hearing", item_id=h.pk, sent_on=today) for h in digest.hearings]
                + [ReminderSent(user=user, item_kind="deadline", item_id=d.pk, sent_on=today) for d in digest.deadlines]
            )
            with translation.override(settings.LANGUAGE_CODE):
                context = {"user": user, "digest": digest, "today": today, "site_url": settings.SITE_URL}
                subject = _("[Amparo] Your hearings and deadlines for %(day)s") % {
                    "day": date_format(today, "DATE_FORMAT")
                }
                body = render_to_string("casework/email/reminder_digest.txt", context)
            EmailMultiAlternatives(subject=subject, body=body, to=[user.email]).send()
    except IntegrityError:
        return False  # another run is sending this digest
    return True


def reminder_recipients() -> list[int]:
    """Active attorneys and supervisors who are on at least one open case."""
    on_open_case = Assignment.objects.filter(attorney=OuterRef("pk"), ended_at__isnull=True).exclude(
        case__status=CaseStatus.CLOSED
    )
    return list(
        get_user_model()
        .objects.filter(Exists(on_open_case), is_active=True, groups__name__in=[Role.ATTORNEY, Role.SUPERVISOR])
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )

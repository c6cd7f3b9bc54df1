"""Oversight: the legal-demand log and the alerts raised by unusual reading.

* A **legal demand** (subpoena, warrant, court order, informal request) is recorded with a reference
  ``LD-<year>-<nnn>`` counting up per year. Its cases are on legal hold while it is open
  (``casework.selectors_oversight.cases_on_legal_hold``; retention reads it). Every create and change
  writes an ``AccessEvent`` (object type ``legal_demand``, the reference) that says which fields
  changed, never what they say.
* A **read alert** is raised by the hourly scan of the access log when an account read, in the
  last 24 hours, more cases it was never assigned to (and did not register) than
  ``READ_ALERT_UNASSIGNED_CASES`` (``READ_ALERT_SUPERVISOR_CASES`` for supervising attorneys, who
  read every case in their work), or exported or downloaded more than ``READ_ALERT_EXPORTS`` times.
  Each alert is e-mailed to the active administrators: the account and the counts, no case data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.roles import Role
from accounts.services import access_event_record
from casework.models import (
    AlertKind,
    Case,
    DemandKind,
    DemandSource,
    DemandStatus,
    LegalDemand,
    ReadAlert,
)
from casework.selectors_oversight import DEMAND_OBJECT_TYPE, FOR_DEMAND, last_reference
from kernel.clock import local_date
from kernel.enqueue import enqueue_on_commit

# A reference taken by a concurrent recording is retried this many times (each lost try means another
# demand was recorded meanwhile, so this many recordings at the same moment all succeed).
REFERENCE_ATTEMPTS = 20
# How far back the scan looks.
READ_ALERT_WINDOW = timedelta(hours=24)
ALERT_OBJECT_TYPE = "read_alert"
# A moment recorded a few minutes "in the future" is a clock skew, not a typo.
CLOCK_SKEW = timedelta(minutes=5)


def reference_for(year: int, number: int) -> str:
    return f"LD-{year}-{number:03d}"


def _next_reference(year: int) -> str:
    last = last_reference(year)
    return reference_for(year, int(last.rsplit("-", 1)[1]) + 1 if last else 1)


def _create_with_next_reference(year: int, fields: dict[str, object]) -> LegalDemand:
    """Insert the demand under the year's next reference, retrying one a concurrent recording took.

    Each try is a savepoint: on PostgreSQL the second of two inserts of one reference waits for the
    first to commit, fails on the unique index, and the retry then sees the first's reference.
    """
    for _attempt in range(REFERENCE_ATTEMPTS - 1):
        try:
            with transaction.atomic():
                return LegalDemand.objects.create(reference=_next_reference(year), **fields)
        except IntegrityError:
            continue
    return LegalDemand.objects.create(reference=_next_reference(year), **fields)


def _demand_changed(demand: LegalDemand, by: User, detail: str, ip_address: str | None) -> None:
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type=DEMAND_OBJECT_TYPE,
        object_ref=demand.reference,
        detail=detail,
        ip_address=ip_address,
    )


def _check_not_future(moment: datetime, field: str, message: str) -> None:
    if moment > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: message})


@transaction.atomic
def legal_demand_record(
    *,
    received_at: datetime,
    received_how: str,
    source: DemandSource | str,
    source_detail: str,
    kind: DemandKind | str,
    asked: str,
    respond_by: date | None,
    counsel: str,
    cases: Sequence[Case],
    by: User,
    ip_address: str | None = None,
) -> LegalDemand:
    """Record a demand received, with the cases it concerns (which are then on legal hold).

    The reference is the next of the current year; two recordings at once each get their own (the
    reference is unique, and a taken one is retried). Raises ``ValidationError`` for a demand
    received in the future or due before it was received. Side effects: the ``LegalDemand`` and its
    cases; an ``AccessEvent`` (change, legal_demand, the reference) naming the kind, the source and
    how many cases, not what was asked.
    """
    _check_not_future(received_at, "received_on", _("A demand is recorded once it has been received."))
    if respond_by is not None and respond_by < local_date(received_at):
        raise ValidationError({"respond_by": _("The response cannot be due before the demand was received.")})
    year = local_date(timezone.now()).year
    fields = {
        "received_at": received_at,
        "received_how": received_how.strip(),
        "source": source,
        "source_detail": source_detail.strip(),
        "kind": kind,
        "asked": asked.strip(),
        "respond_by": respond_by,
        "counsel": counsel.strip(),
        "recorded_by": by,
    }
    demand = _create_with_next_reference(year, fields)
    demand.cases.set(cases)
    _demand_changed(
        demand,
        by,
        f"recorded: {demand.kind} from {demand.source}, {len({case.pk for case in cases})} case(s)",
        ip_address,
    )
    return demand


@transaction.atomic
def legal_demand_update(
    *,
    demand: LegalDemand,
    status: DemandStatus | str,
    counsel: str,
    counsel_notified_at: datetime | None,
    response: str,
    produced: str,
    by: User,
    ip_address: str | None = None,
) -> LegalDemand:
    """Record what happened next: its status, counsel told, the response, the documents produced.

    Refused (``ValidationError``) when counsel is said to have been told before the demand arrived
    or in the future, or when it is marked answered without the response. Side effects: the demand
    (``updated_at``); an ``AccessEvent`` (change) naming the fields that changed (the status with
    its old and new values), never their text. A demand that is no longer open releases its cases
    from legal hold.
    """
    demand = LegalDemand.objects.select_for_update().get(pk=demand.pk)
    if counsel_notified_at is not None:
        _check_not_future(counsel_notified_at, "counsel_notified_on", _("Record counsel as told once they have been."))
        if counsel_notified_at < demand.received_at.replace(second=0, microsecond=0):
            raise ValidationError(
                {"counsel_notified_on": _("Counsel cannot have been told before the demand was received.")}
            )
    if status == DemandStatus.ANSWERED and not response.strip():
        raise ValidationError({"response": _("Record the response before marking the demand answered.")})
    new = {
        "status": str(status),
        "counsel": counsel.strip(),
        "counsel_notified_at": counsel_notified_at,
        "response": response.strip(),
        "produced": produced.strip(),
    }
    changed = [name for name, value in new.items() if getattr(demand, name) != value]
    if not changed:
        return demand
    details = [f"status {demand.status} -> {new['status']}" if name == "status" else name for name in changed]
    for name, value in new.items():
        setattr(demand, name, value)
    demand.updated_at = timezone.now()
    demand.save(update_fields=[*changed, "updated_at"])
    _demand_changed(demand, by, "changed: " + ", ".join(details), ip_address)
    return demand


def legal_demand_for_export(reference: str) -> LegalDemand | None:
    """The open demand an export answers, for the reports app to mark the export with.

    ``None`` for an empty reference (an ordinary export). Raises ``ValidationError`` for a reference
    no demand has, or a demand that is no longer open: an export "for" a closed demand would be a
    way to launder an export through the log. The export's access-log row then ends with
    ``export_detail(demand)``.
    """
    reference = reference.strip().upper()
    if not reference:
        return None
    demand = LegalDemand.objects.filter(reference=reference).first()
    if demand is None:
        raise ValidationError(_("No legal demand has the reference %(reference)s.") % {"reference": reference})
    if not demand.is_open:
        raise ValidationError(
            _("Legal demand %(reference)s is %(status)s: exports are made only for an open demand.")
            % {"reference": demand.reference, "status": demand.get_status_display().lower()}
        )
    return demand


def export_detail(demand: LegalDemand) -> str:
    """What an export's access-log detail ends with: ``for legal demand LD-2026-001``."""
    return f"{FOR_DEMAND} {demand.reference}"


# --- Read alerts ---------------------------------------------------------------------------------


def _supervisor_ids() -> set[int]:
    return set(User.objects.filter(groups__name=Role.SUPERVISOR).values_list("pk", flat=True))


def _unassigned_case_reads(start: datetime, end: datetime, user_id: int | None = None) -> dict[int, int]:
    """Per account: distinct cases viewed in [start, end) that it was never assigned to nor registered."""
    own = Case.objects.filter(number=OuterRef("object_ref")).filter(
        Q(registered_by=OuterRef("user_id")) | Q(assignments__attorney=OuterRef("user_id"))
    )
    reads = AccessEvent.objects.filter(
        action=AccessEvent.Action.VIEW, object_type="case", at__gte=start, at__lt=end
    ).filter(~Exists(own))
    if user_id is not None:
        reads = reads.filter(user_id=user_id)
    rows = reads.order_by().values("user_id").annotate(n=Count("object_ref", distinct=True)).values_list("user_id", "n")
    return dict(rows)


def _exports(start: datetime, end: datetime, user_id: int | None = None) -> dict[int, int]:
    """Per account: exports and downloads in [start, end)."""
    events = AccessEvent.objects.filter(
        action__in=[AccessEvent.Action.EXPORT, AccessEvent.Action.DOWNLOAD], at__gte=start, at__lt=end
    )
    if user_id is not None:
        events = events.filter(user_id=user_id)
    return dict(events.order_by().values("user_id").annotate(n=Count("pk")).values_list("user_id", "n"))


def read_alert_threshold(kind: AlertKind, *, supervisor: bool) -> int:
    """The count an account may reach in 24 hours without an alert (an alert is raised above it)."""
    if kind == AlertKind.BULK_EXPORTS:
        return int(settings.READ_ALERT_EXPORTS)
    return int(settings.READ_ALERT_SUPERVISOR_CASES if supervisor else settings.READ_ALERT_UNASSIGNED_CASES)


@transaction.atomic
def read_alerts_scan(*, now: datetime | None = None) -> list[ReadAlert]:
    """Look at the access log's last 24 hours and raise an alert for each unusual pattern.

    The window ends at ``now`` (to the minute). An account already alerted of the same kind within
    the window is counted again only from the end of that alert's window, so an alert covers what
    was not yet reported, and re-running the scan raises nothing new (one alert per account, kind
    and window start is also a database constraint). Returns the alerts raised. Side effects: the
    ``ReadAlert`` rows; for each, the task ``casework.tasks.send_read_alert_email`` is queued after
    commit (it e-mails the active administrators).
    """
    end = (now or timezone.now()).replace(second=0, microsecond=0)
    start = end - READ_ALERT_WINDOW
    supervisors = _supervisor_ids()
    counters = {AlertKind.UNASSIGNED_READS: _unassigned_case_reads, AlertKind.BULK_EXPORTS: _exports}
    raised: list[ReadAlert] = []
    for kind, counter in counters.items():
        reported_until = dict(
            ReadAlert.objects.filter(kind=kind, window_end__gt=start)
            .order_by()
            .values("user_id")
            .annotate(until=Max("window_end"))
            .values_list("user_id", "until")
        )
        for user_id, count in sorted(counter(start, end).items()):
            threshold = read_alert_threshold(kind, supervisor=user_id in supervisors)
            if count <= threshold:
                continue
            since = max(start, reported_until.get(user_id, start))
            if since >= end:
                continue
            if since > start:
                count = counter(since, end, user_id).get(user_id, 0)
                if count <= threshold:
                    continue
            alert, created = ReadAlert.objects.get_or_create(
                user_id=user_id,
                kind=kind,
                window_start=since,
                defaults={"count": count, "window_end": end, "raised_at": timezone.now()},
            )
            if created:
                raised.append(alert)
                enqueue_on_commit("casework.tasks.send_read_alert_email", alert_id=alert.pk)
    return raised


def read_alert_recipients() -> list[str]:
    """The e-mail addresses of the active administrators."""
    return list(
        User.objects.filter(is_active=True, groups__name=Role.ADMIN)
        .order_by("pk")
        .values_list("email", flat=True)
        .distinct()
    )


def read_alert_send_email(*, alert_id: int) -> bool:
    """E-mail one alert to the active administrators (the body of the task); whether it was sent.

    Side effect: one e-mail to every active administrator. Subject and body name the account, the
    kind, the count and the window; never a case, a detainee or anything read.
    """
    alert = ReadAlert.objects.select_related("user").filter(pk=alert_id).first()
    recipients = read_alert_recipients()
    if alert is None or not recipients:
        return False
    supervisor = alert.user.groups.filter(name=Role.SUPERVISOR).exists()
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "alert": alert,
            "account": alert.user,
            "threshold": read_alert_threshold(AlertKind(alert.kind), supervisor=supervisor),
            "alerts_url": settings.SITE_URL + reverse("casework:read-alert-list"),
            "reads_url": settings.SITE_URL + reverse("casework:staff-reads", kwargs={"user_id": alert.user_id}),
        }
        if alert.kind == AlertKind.BULK_EXPORTS:
            subject = _("[Amparo] Read alert: %(account)s made %(count)s exports or downloads")
        else:
            subject = _("[Amparo] Read alert: %(account)s read %(count)s cases not assigned to them")
        subject = subject % {"account": alert.user.email, "count": alert.count}
        body = render_to_string("casework/email/read_alert.txt", context)
    EmailMultiAlternatives(subject=subject, body=body, to=recipients).send()
    return True


@transaction.atomic
def read_alert_acknowledge(*, alert: ReadAlert, note: str, by: User, ip_address: str | None = None) -> ReadAlert:
    """An administrator has looked into an alert and says what they found.

    Refused (``ValidationError``) for an alert already acknowledged, an empty note, or an alert about
    the administrator's own account (another administrator must look at it). Side effects: the
    alert's acknowledgement; an ``AccessEvent`` (change, read_alert, its id), without the note.
    """
    alert = ReadAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise ValidationError(_("This alert has already been acknowledged."))
    if alert.user_id == by.pk:
        raise ValidationError(_("An alert about your own account must be acknowledged by another administrator."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say what you found.")})
    alert.acknowledged_by = by
    alert.acknowledged_at = timezone.now()
    alert.note = note[:300]
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "note"])
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type=ALERT_OBJECT_TYPE,
        object_ref=str(alert.pk),
        detail=f"acknowledged ({alert.kind} by user {alert.user_id})",
        ip_address=ip_address,
    )
    return alert

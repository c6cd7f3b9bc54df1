"""Keep less: erase the personal data of closed cases, by retention or on request with four eyes.

What an erasure removes from a case: its notes and documents (the files too, once the erasure is
committed), where the person was detained, the closing and outcome notes and other free text; and,
once every case of the person is erased, the person: names, A-numbers, date of birth, country,
languages, family contacts and every blind index. What stays: the case number, dates, statuses,
hearings and deadlines as dates and codes, the timeline entries (which name no one), the ledger and
every aggregate. Money records in funds react to ``casework.signals.case_erased`` (a bond's
person-obligor). A case on legal hold (an open ``LegalDemand``) is never erased: destroying records
a subpoena or court order asks for is not the fund's choice to make.

The erasure itself is logged (timeline and access log) without any of the erased data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import (
    OPEN_DEMAND_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    Decision,
    Detainee,
    DetaineeANumberKey,
    DetaineeNameKey,
    Document,
    ErasureReason,
    ErasureRequest,
    FamilyContact,
    Hearing,
    Note,
)
from casework.services.history import case_changed, case_event
from casework.signals import case_erased


@dataclass(frozen=True)
class DueErasure:
    """A closed case whose retention period has ended (what a dry run lists: no personal data)."""

    number: str
    closed_on: date


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Cases closed before this moment are due for erasure."""
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_CLOSED_CASE_DAYS)


def on_legal_hold(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(legal_demands__status__in=OPEN_DEMAND_STATUSES)


def retention_due(now: datetime | None = None) -> list[DueErasure]:
    """Closed cases past the retention period, not yet erased and not on legal hold; oldest first."""
    closed = Case.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=retention_cutoff(now), erased_at__isnull=True)
    due = closed.exclude(pk__in=on_legal_hold(Case.objects.all()).values("pk")).order_by("closed_at", "pk")
    return [DueErasure(number=c.number, closed_on=timezone.localdate(c.closed_at)) for c in due if c.closed_at]


def _check_erasable(case: Case) -> None:
    if case.erased_at is not None:
        raise ValidationError(_("This case's personal data has already been erased."))
    if case.status != CaseStatus.CLOSED:
        raise ValidationError(_("Only a closed case can be erased. Close it first."))
    if on_legal_hold(Case.objects.filter(pk=case.pk)).exists():
        raise ValidationError(
            _(
                "This case is on legal hold: an open legal demand concerns it. Nothing about it may be erased "
                "until the demand is closed."
            )
        )


def _erase(case: Case, *, reason: ErasureReason, confirmed_by: User | None) -> None:
    """Erase one case (locked by the caller); see the module docstring for what goes and what stays."""
    now = timezone.now()
    files = [name for name in Document.objects.filter(case=case).values_list("file", flat=True) if name]
    Note.objects.filter(case=case).delete()
    Document.objects.filter(case=case).delete()
    Hearing.objects.filter(case=case).exclude(outcome_note="").update(outcome_note="")
    Decision.objects.filter(hearing__case=case).exclude(note="").update(note="")
    case.detained_where = ""
    case.close_note = ""
    case.asylum_exception_note = ""
    case.erased_at = now
    case.save(update_fields=["detained_where", "close_note", "asylum_exception_note", "erased_at"])
    detainee = Detainee.objects.select_for_update().get(pk=case.detainee_id)
    whole_person = not Case.objects.filter(detainee=detainee, erased_at__isnull=True).exists()
    if whole_person:
        FamilyContact.objects.filter(detainee=detainee).delete()
        DetaineeNameKey.objects.filter(detainee=detainee).delete()
        DetaineeANumberKey.objects.filter(detainee=detainee).delete()
        for name in ("given_names", "family_names", "other_names", "a_number", "other_a_numbers"):
            setattr(detainee, name, "")
        for name in ("country_of_birth", "citizenship", "languages"):
            setattr(detainee, name, "")
        detainee.date_of_birth = None
        detainee.a_number_index = None
        detainee.date_of_birth_index = None
        detainee.needs_interpreter = False
        detainee.erased_at = now
        detainee.save()
    for _receiver, names in case_erased.send(sender=Case, case=case):
        files.extend(names or [])
    how = (
        _("Personal data erased: the retention period ended.")
        if reason == ErasureReason.RETENTION
        else _("Personal data erased on request, confirmed by a second supervisor.")
    )
    case_event(case, CaseEvent.Kind.ERASED, how, confirmed_by)
    if confirmed_by is not None:
        case_changed(case, confirmed_by, f"personal data erased ({reason}{', whole person' if whole_person else ''})")
    transaction.on_commit(lambda: _delete_files(files))


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


@transaction.atomic
def erasure_request(*, case: Case, by: User, why: str, ip_address: str | None = None) -> ErasureRequest:
    """A supervisor asks to erase a closed case now; a second supervisor must confirm.

    Raises ``ValidationError`` for a case that is not closed, already erased, on legal hold, or
    with a request already pending. Side effects: the ``ErasureRequest``; timeline; ``AccessEvent``.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    _check_erasable(case)
    if ErasureRequest.objects.filter(case=case, erased_at__isnull=True, cancelled_at__isnull=True).exists():
        raise ValidationError(_("An erasure of this case is already waiting for a second supervisor."))
    request = ErasureRequest.objects.create(case=case, reason=ErasureReason.REQUEST, why=why.strip(), requested_by=by)
    case_event(
        case, CaseEvent.Kind.ERASED, _("Erasure of the personal data requested; a second supervisor must confirm."), by
    )
    case_changed(case, by, f"erasure requested (request {request.pk})", ip_address=ip_address)
    return request


@transaction.atomic
def erasure_confirm(*, request: ErasureRequest, by: User, ip_address: str | None = None) -> None:
    """A second supervisor confirms an erasure on request, which is carried out at once.

    Refused (``ValidationError``) for the supervisor who asked, a request no longer pending, or a
    case that can no longer be erased (reopened, put on legal hold). Side effects: see ``_erase``.
    """
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if not request.pending:
        raise ValidationError(_("This erasure request is no longer pending."))
    if request.requested_by_id == by.pk:
        raise ValidationError(_("A second supervisor must confirm an erasure you asked for."))
    case = Case.objects.select_for_update().get(pk=request.case_id)
    _check_erasable(case)
    _erase(case, reason=ErasureReason.REQUEST, confirmed_by=by)
    request.confirmed_by = by
    request.erased_at = case.erased_at
    request.save(update_fields=["confirmed_by", "erased_at"])
    case_changed(case, by, f"erasure confirmed (request {request.pk})", ip_address=ip_address)


@transaction.atomic
def erasure_cancel(*, request: ErasureRequest, by: User, ip_address: str | None = None) -> None:
    """Withdraw a pending erasure request (either supervisor may). Side effects: timeline; ``AccessEvent``."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if not request.pending:
        raise ValidationError(_("This erasure request is no longer pending."))
    request.cancelled_at = timezone.now()
    request.save(update_fields=["cancelled_at"])
    case_event(request.case, CaseEvent.Kind.ERASED, _("Erasure request withdrawn."), by)
    case_changed(request.case, by, f"erasure request {request.pk} withdrawn", ip_address=ip_address)


def retention_erase_due(*, now: datetime | None = None) -> int:
    """Erase every case due under the retention period (the daily beat task); returns how many.

    Each case is its own transaction, re-checked under its lock (a case reopened or put on hold
    since the list was made is skipped). Side effects per case: see ``_erase``; an
    ``ErasureRequest`` with reason "retention" records it.
    """
    erased = 0
    for due in retention_due(now):
        with transaction.atomic():
            case = Case.objects.select_for_update().get(number=due.number)
            try:
                _check_erasable(case)
            except ValidationError:
                continue
            if case.closed_at is None or case.closed_at >= retention_cutoff(now):
                continue
            _erase(case, reason=ErasureReason.RETENTION, confirmed_by=None)
            ErasureRequest.objects.create(case=case, reason=ErasureReason.RETENTION, erased_at=case.erased_at)
            erased += 1
    return erased

"""Custody: the current custody status and its history (transfers, release)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import (
    Case,
    CaseEvent,
    CustodyPeriod,
    CustodyStatus,
    DetentionFacility,
)
from casework.services.history import case_changed, case_event


@transaction.atomic
def custody_record_change(
    *,
    case: Case,
    status: CustodyStatus,
    facility: DetentionFacility | None,
    started_on: date,
    by: User,
    ip_address: str | None = None,
) -> CustodyPeriod:
    """Record a change of custody (a transfer, a release, a removal) from ``started_on``.

    Side effects: the current custody period ends that day; a new one starts; the case's
    current custody and facility follow; a timeline event; an ``AccessEvent``.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    current = CustodyPeriod.objects.filter(case=case, ended_on__isnull=True).first()
    if current is not None:
        if started_on < current.started_on:
            raise ValidationError(
                {
                    "started_on": _("The change cannot be earlier than the current period, which began on %(date)s.")
                    % {"date": current.started_on.isoformat()}
                }
            )
        current.ended_on = started_on
        current.save(update_fields=["ended_on"])
    if status != CustodyStatus.DETAINED:
        facility = None
    period = CustodyPeriod.objects.create(
        case=case, status=status, facility=facility, started_on=started_on, recorded_by=by
    )
    case.custody_status = status
    case.facility = facility
    case.save(update_fields=["custody_status", "facility"])
    where = f" — {facility.name}" if facility else ""
    case_event(case, CaseEvent.Kind.CUSTODY, f"{CustodyStatus(status).label}{where}", by)
    case_changed(case, by, f"custody {status}", ip_address=ip_address)
    return period

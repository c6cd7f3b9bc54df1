"""Relief sought on a case (asylum, withholding, bond, ...), each with its status."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import (
    Case,
    CaseEvent,
    Relief,
    ReliefKind,
    ReliefStatus,
)
from casework.services.history import case_changed, case_event


@transaction.atomic
def relief_save(
    *,
    case: Case,
    kind: ReliefKind,
    status: ReliefStatus,
    filed_on: date | None,
    decided_on: date | None,
    by: User,
    ip_address: str | None = None,
) -> Relief:
    """Add a form of relief sought, or update its status. Side effects: timeline; ``AccessEvent``."""
    if decided_on and filed_on and decided_on < filed_on:
        raise ValidationError({"decided_on": _("The decision cannot come before the filing.")})
    relief, created = Relief.objects.update_or_create(
        case=case, kind=kind, defaults={"status": status, "filed_on": filed_on, "decided_on": decided_on}
    )
    verb = _("added") if created else _("updated")
    case_event(
        case,
        CaseEvent.Kind.RELIEF,
        f"{ReliefKind(kind).label}: {ReliefStatus(status).label} ({verb})",
        by,
    )
    case_changed(case, by, f"relief {kind} {status}", ip_address=ip_address)
    return relief

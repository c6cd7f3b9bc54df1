"""Relief sought on a case (asylum, withholding, CAT, cancellation, ...), each with its status.

A claim to U.S. citizenship is listed here too, because it is defended like a form of relief, but it
is the most urgent thing a case can hold: ICE's civil immigration authority does not reach a U.S.
citizen at all (the INA's detention and removal provisions apply to "aliens"; ICE Directive 16001.2,
"Investigating the Potential U.S. Citizenship of Individuals Encountered by ICE", 2015), so an open
claim flags the case everywhere (``Case.citizenship_claimed``).
"""

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

# A citizenship claim flags the case until it is withdrawn or finally lost.
CLOSED_CLAIM_STATUSES = frozenset({ReliefStatus.DENIED, ReliefStatus.WITHDRAWN})


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
    """Add a form of relief sought, or update its status.

    Side effects: for a claim to U.S. citizenship, the case's ``citizenship_claimed`` flag follows
    the claim (set while it is open, cleared when denied or withdrawn); timeline; ``AccessEvent``.
    """
    if decided_on and filed_on and decided_on < filed_on:
        raise ValidationError({"decided_on": _("The decision cannot come before the filing.")})
    relief, created = Relief.objects.update_or_create(
        case=case, kind=kind, defaults={"status": status, "filed_on": filed_on, "decided_on": decided_on}
    )
    if kind == ReliefKind.CITIZENSHIP_CLAIM:
        claimed = status not in CLOSED_CLAIM_STATUSES
        Case.objects.filter(pk=case.pk).update(citizenship_claimed=claimed)
        case.citizenship_claimed = claimed
    verb = _("added") if created else _("updated")
    case_event(
        case,
        CaseEvent.Kind.RELIEF,
        f"{ReliefKind(kind).label}: {ReliefStatus(status).label} ({verb})",
        by,
    )
    case_changed(case, by, f"relief {kind} {status}", ip_address=ip_address)
    return relief

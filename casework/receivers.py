"""casework's reactions to other apps' signals (connected in ``CaseworkConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import staff_deactivated
from casework.services.assignment import cases_flag_for_reassignment


@receiver(staff_deactivated, dispatch_uid="casework_flag_leavers_cases")
def flag_leavers_cases(sender: type, *, user: User, by: User, **kwargs: Any) -> int:
    """A deactivated attorney's open cases go back to triage for a new lead (same transaction)."""
    return cases_flag_for_reassignment(attorney=user, by=by)

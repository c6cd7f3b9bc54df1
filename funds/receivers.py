"""funds' reactions to other apps' signals (connected in ``FundsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from casework.models import Case
from casework.signals import case_erased
from funds.services.erasure import case_erase_money_records


@receiver(case_erased, dispatch_uid="funds_erase_money_records")
def erase_money_records(sender: type, *, case: Case, **kwargs: Any) -> list[str]:
    """A case's person-obligors and payment attachments go with its personal data (same transaction)."""
    return case_erase_money_records(case=case)

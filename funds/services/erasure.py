"""What funds holds about a person whose case is erased (``casework.signals.case_erased``).

The money stays as it was (the ledger, amounts, dates, the payee of a payment): auditors need
it and it names no detainee. What goes: a person-obligor's name and phone on the case's bonds
(the bond keeps "a person" as its obligor kind) and the attachments of its payment requests,
which are invoices and receipts that often name the person.
"""

from __future__ import annotations

from casework.models import Case
from funds.models import Bond, Disbursement

# A person-obligor must be named (a database constraint): after erasure the name is this mark.
ERASED_NAME = "—"


def case_erase_money_records(*, case: Case) -> list[str]:
    """Blank the obligors and detach the attachments of ``case``; returns the files to delete after commit.

    Runs inside the caller's (the erasure's) transaction.
    """
    Bond.objects.filter(case=case, obligor_kind="person").update(obligor_name=ERASED_NAME, obligor_phone="")
    Bond.objects.filter(case=case).exclude(obligor_kind="person").exclude(obligor_name="").update(obligor_name="")
    attachments = Disbursement.objects.filter(case=case).exclude(attachment="")
    files = [name for name in attachments.values_list("attachment", flat=True) if name]
    attachments.update(attachment="")
    return files

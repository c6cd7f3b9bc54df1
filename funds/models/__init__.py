"""The funds models, one module per subject. Django loads this package, and the rest of the
code imports the models from it; ``__all__`` is that public list (every name is used)."""

from funds.models.bonds import Bond, BondEvent, BondType, BreachService, ObligorKind, PostingMethod
from funds.models.disbursements import Disbursement, Purpose
from funds.models.donations import (
    Dispute,
    Donation,
    Donor,
    Payout,
    PayoutDiscrepancy,
    RecurringDonation,
    Refund,
    StripeEvent,
)
from funds.models.ledger import (
    BOND_RECEIVABLE_KINDS,
    CASH_KINDS,
    Account,
    AccountKind,
    Fund,
    LedgerCheck,
    Posting,
    Transaction,
    TransactionKind,
)

__all__ = [
    "BOND_RECEIVABLE_KINDS",
    "CASH_KINDS",
    "Account",
    "AccountKind",
    "Bond",
    "BondEvent",
    "BondType",
    "BreachService",
    "Disbursement",
    "Dispute",
    "Donation",
    "Donor",
    "Fund",
    "LedgerCheck",
    "ObligorKind",
    "Payout",
    "PayoutDiscrepancy",
    "Posting",
    "PostingMethod",
    "Purpose",
    "RecurringDonation",
    "Refund",
    "StripeEvent",
    "Transaction",
    "TransactionKind",
]

"""The funds models, one module per subject. Django loads this package, and the rest of the
code imports the models from it; ``__all__`` is that public list (every name is used)."""

from funds.models.disbursements import Bond, Disbursement, Purpose
from funds.models.donations import Dispute, Donation, Donor, Payout, RecurringDonation, Refund, StripeEvent
from funds.models.ledger import CASH_KINDS, Account, AccountKind, Fund, Posting, Transaction, TransactionKind

__all__ = [
    "CASH_KINDS",
    "Account",
    "AccountKind",
    "Bond",
    "Disbursement",
    "Dispute",
    "Donation",
    "Donor",
    "Fund",
    "Payout",
    "Posting",
    "Purpose",
    "RecurringDonation",
    "Refund",
    "StripeEvent",
    "Transaction",
    "TransactionKind",
]

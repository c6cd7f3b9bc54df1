from funds.models.disbursements import Bond, Disbursement, Purpose
from funds.models.donations import Dispute, Donation, Donor, Payout, RecurringDonation, Refund, StripeEvent
from funds.models.ledger import (
    ASSET_KINDS,
    CASH_KINDS,
    Account,
    AccountKind,
    Fund,
    Posting,
    Transaction,
    TransactionKind,
)

__all__ = [
    "ASSET_KINDS",
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

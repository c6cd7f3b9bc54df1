"""Disbursements for cases: requested, decided by someone else, paid from the bank.

A bond payment opens the bond (``funds.services.bonds.bond_open``), whose later life is there.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from casework.models import Case, DetentionAuthority
from casework.permissions import cases_visible_to
from casework.selectors import automatic_stay
from funds.models import Account, AccountKind, BondType, Disbursement, Fund, Purpose, TransactionKind
from funds.selectors import bank_lowest_since, fund_balance
from funds.services.bonds import BondTerms, bond_open, bond_terms_errors
from funds.services.ledger import account, ledger_post
from kernel.clock import booking_day_start
from kernel.money import format_cents
from kernel.uploads import UploadRejected, check_upload


def _log(by: User, disbursement: Disbursement, detail: str) -> None:
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="disbursement",
        object_ref=f"{disbursement.case.number} #{disbursement.pk}",
        detail=detail,
    )


def _check_fund(fund: Fund, purpose: str) -> None:
    if not fund.active:
        raise ValidationError({"fund": _("This fund is closed.")})
    if not fund.allows(purpose):
        raise ValidationError(
            {
                "fund": _("%(fund)s is restricted to %(allowed)s; it cannot pay for this purpose.")
                % {"fund": fund.name, "allowed": fund.allowed_purposes}
            }
        )


def _check_money(fund: Fund, amount_cents: int, *, counting_committed: bool, this: Disbursement | None = None) -> None:
    balance = fund_balance(fund)
    committed = balance.committed - (this.amount_cents if this and this.status == Disbursement.Status.APPROVED else 0)
    free = balance.available - (committed if counting_committed else 0)
    if amount_cents > free:
        raise ValidationError(
            _(
                "Not enough money in %(fund)s: %(free)s is free (%(available)s available, %(committed)s promised to approved requests), %(amount)s is needed."
            )
            % {
                "fund": fund.name,
                "free": format_cents(max(free, 0)),
                "available": format_cents(balance.available),
                "committed": format_cents(committed),
                "amount": format_cents(amount_cents),
            }
        )


def _check_bank(fund: Fund, amount_cents: int, paid_on: date) -> None:
    """Refuse a payment the fund's bank account cannot cover, on the day paid or any day since.

    Money is paid from the bank only: donations still in Stripe clearing reach it with a payout.
    The bank account row is locked first (``SELECT ... FOR UPDATE``), so two payments from one
    fund are checked one after the other and cannot both spend the same money.
    """
    bank = Account.objects.select_for_update().get(pk=account(fund, AccountKind.BANK).pk)
    low, low_day = bank_lowest_since(bank, paid_on)
    if amount_cents <= low:
        return
    words = {
        "fund": fund.name,
        "bank": format_cents(bank.balance),
        "clearing": format_cents(fund_balance(fund).in_clearing),
        "amount": format_cents(amount_cents),
        "low": format_cents(low),
        "day": date_format(low_day, "DATE_FORMAT"),
    }
    if amount_cents > bank.balance:
        message = _(
            "Not enough money in the bank for %(fund)s: %(bank)s is in the bank and %(clearing)s is still on "
            "its way from Stripe; %(amount)s is needed. Payments are made from the bank only: wait for the "
            "next payout."
        )
    else:
        message = _(
            "Not enough money in the bank for %(fund)s on the day it was paid or since: on %(day)s the bank "
            "held only %(low)s, and %(amount)s is needed (today %(bank)s is in the bank and %(clearing)s on its "
            "way from Stripe). Check the payment date."
        )
    raise ValidationError(message % words)


@transaction.atomic
def disbursement_request(
    *,
    case: Case,
    fund: Fund,
    purpose: Purpose,
    amount_cents: int,
    payee: str,
    reason: str,
    by: User,
    attachment: UploadedFile[bytes] | None = None,
) -> Disbursement:
    """An attorney on ``case`` asks for a payment from ``fund``.

    Side effects: a ``Disbursement`` waiting for approval; the attachment, if any, stored privately;
    an ``AccessEvent``. Refused (nothing written) for a closed fund or a restricted fund used for
    another purpose, a non-positive amount, or an attachment that fails the checks case documents
    pass (``kernel.uploads.check_upload``: not empty, at most ``DOCUMENT_MAX_BYTES``, a PDF, image or
    office document judged by its content).
    """
    if not cases_visible_to(by, "change").filter(pk=case.pk).exists():
        raise ValidationError(_("Only an attorney working on this case can ask for a payment for it."))
    if amount_cents <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    _check_fund(fund, purpose)
    if attachment is not None:
        try:
            check_upload(attachment, max_bytes=settings.DOCUMENT_MAX_BYTES)
        except UploadRejected as exc:
            raise ValidationError({"attachment": exc.error_list}) from exc
    disbursement = Disbursement.objects.create(
        case=case,
        fund=fund,
        purpose=purpose,
        amount_cents=amount_cents,
        payee=payee.strip(),
        reason=reason.strip(),
        requested_by=by,
    )
    if attachment is not None:
        disbursement.attachment.save("attachment", attachment, save=True)
    _log(by, disbursement, f"requested {amount_cents} cents ({purpose})")
    return disbursement


def _lock(disbursement: Disbursement) -> Disbursement:
    # Only the disbursement's row (``of``): money is guarded by the lock on the bank account row.
    return Disbursement.objects.select_for_update(of=("self",)).select_related("fund", "case").get(pk=disbursement.pk)


@transaction.atomic
def disbursement_approve(*, disbursement: Disbursement, by: User, note: str = "") -> Disbursement:
    """Approve a request. Never one's own (also a database constraint).

    Refused when the fund lacks free money (available minus what approved requests already
    promise) or is restricted to other purposes. Side effects: status, decider; ``AccessEvent``.
    """
    disbursement = _lock(disbursement)
    if disbursement.requested_by_id == by.pk:
        raise ValidationError(_("You cannot approve your own request: another finance person must."))
    if disbursement.status != Disbursement.Status.REQUESTED:
        raise ValidationError(_("Only a request waiting for approval can be approved."))
    _check_fund(disbursement.fund, disbursement.purpose)
    _check_money(disbursement.fund, disbursement.amount_cents, counting_committed=True)
    disbursement.status = Disbursement.Status.APPROVED
    disbursement.decided_by = by
    disbursement.decided_at = timezone.now()
    disbursement.decision_note = note.strip()
    disbursement.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _log(by, disbursement, "approved")
    return disbursement


@transaction.atomic
def disbursement_reject(*, disbursement: Disbursement, by: User, note: str) -> Disbursement:
    """Reject a request with a reason. Never one's own. Side effects: status; ``AccessEvent``."""
    disbursement = _lock(disbursement)
    if disbursement.requested_by_id == by.pk:
        raise ValidationError(_("You cannot decide on your own request: another finance person must."))
    if disbursement.status != Disbursement.Status.REQUESTED:
        raise ValidationError(_("Only a request waiting for approval can be rejected."))
    if not note.strip():
        raise ValidationError({"note": _("Say why, so the attorney knows what to change.")})
    disbursement.status = Disbursement.Status.REJECTED
    disbursement.decided_by = by
    disbursement.decided_at = timezone.now()
    disbursement.decision_note = note.strip()
    disbursement.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _log(by, disbursement, "rejected")
    return disbursement


# Detention authorities under which no delivery bond can be set (``Case.detention_authority``):
# 236(c) is mandatory detention (a Joseph hearing contests it); after a final order (241) release is by
# an order of supervision, whose bond is another type.
_NO_DELIVERY_BOND = {
    DetentionAuthority.INA_236C: gettext_lazy(
        "ICE holds this person under INA 236(c), mandatory detention: no delivery bond can be posted. "
        "If a judge found otherwise at a Joseph hearing, correct the case's detention authority first."
    ),
    DetentionAuthority.INA_241: gettext_lazy(
        "ICE holds this person under INA 241, after a final order: release is by an order of supervision "
        "(8 CFR 241.4), so record the bond as an order of supervision bond, or correct the detention authority."
    ),
}


def _check_bond_possible(disbursement: Disbursement, bond_type: str) -> None:
    """Refuse a delivery bond the detention authority rules out."""
    reason = _NO_DELIVERY_BOND.get(DetentionAuthority(disbursement.case.detention_authority))
    if bond_type == BondType.DELIVERY and reason is not None:
        raise ValidationError({"bond_type": str(reason)}, code="no_bond_possible")


def _check_no_automatic_stay(disbursement: Disbursement) -> None:
    """Refuse to pay a bond while DHS's automatic stay of the bond order runs, or may yet be invoked."""
    stay = automatic_stay(disbursement.case)
    if stay is not None and stay.in_effect:
        raise ValidationError(
            _("This bond cannot be posted yet. %(why)s") % {"why": stay.explanation},
            code="automatic_stay",
        )


@transaction.atomic
def disbursement_pay(
    *,
    disbursement: Disbursement,
    paid_on: date,
    method: str,
    reference: str,
    by: User,
    bond_terms: BondTerms | None = None,
) -> Disbursement:
    """Record that an approved disbursement was paid from the fund's bank (check, wire, ACH), and book it.

    Refused (nothing written) for a delivery bond the case's detention authority rules out (INA 236(c),
    241), for a bond while DHS's automatic stay of the bond order runs
    (``casework.selectors.automatic_stay``, 8 CFR 1003.19(i)(2)), and when the bank cannot cover it on
    ``paid_on`` and every day since;
    money still on its way from Stripe does not count (``_check_bank``, under a lock on the bank
    account). Ledger (key ``disbursement:<id>``): a bond moves the money into the fund's *bonds
    receivable* (it is expected back); anything else is a program expense; both from the bank. A
    bond also opens a ``Bond`` with ``bond_terms`` (default: a delivery bond the fund posts itself),
    refused as ``funds.services.bonds.bond_terms_errors`` says. Side effects: status, payment
    details; ``AccessEvent``; for a bond, what ``bond_open`` writes.
    """
    disbursement = _lock(disbursement)
    if disbursement.status != Disbursement.Status.APPROVED:
        raise ValidationError(_("Only an approved disbursement can be recorded as paid."))
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("Record a payment once it has been made.")})
    is_bond = disbursement.purpose == Purpose.BOND
    if bond_terms is not None and not is_bond:
        raise ValueError("bond terms are for a bond payment only")
    terms = (bond_terms or BondTerms()) if is_bond else None
    if terms is not None and (
        errors := bond_terms_errors(terms, amount_cents=disbursement.amount_cents, paid_on=paid_on)
    ):
        raise ValidationError(errors)
    if terms is not None:
        _check_bond_possible(disbursement, terms.bond_type)
        _check_no_automatic_stay(disbursement)
    fund = disbursement.fund
    _check_bank(fund, disbursement.amount_cents, paid_on)
    target = AccountKind.BONDS_RECEIVABLE if is_bond else AccountKind.PROGRAM_EXPENSES
    txn = ledger_post(
        key=f"disbursement:{disbursement.pk}",
        kind=TransactionKind.BOND_PAID if is_bond else TransactionKind.DISBURSEMENT,
        description=f"{disbursement.get_purpose_display()} for case {disbursement.case.number} to {disbursement.payee}",
        lines=[
            (account(fund, target), disbursement.amount_cents),
            (account(fund, AccountKind.BANK), -disbursement.amount_cents),
        ],
        occurred_at=booking_day_start(paid_on),
        by=by,
    )
    disbursement.status = Disbursement.Status.PAID
    disbursement.paid_on = paid_on
    disbursement.payment_method = method
    disbursement.payment_reference = reference.strip()
    disbursement.paid_by = by
    disbursement.transaction = txn
    disbursement.save(
        update_fields=["status", "paid_on", "payment_method", "payment_reference", "paid_by", "transaction"]
    )
    if terms is not None:
        bond_open(disbursement=disbursement, terms=terms, by=by)
    _log(by, disbursement, f"paid on {paid_on.isoformat()} by {method}")
    return disbursement

"""Disbursements for cases and the bond lifecycle."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from casework.models import Case
from casework.permissions import cases_visible_to
from funds.models import AccountKind, Bond, Disbursement, Fund, Purpose, TransactionKind
from funds.selectors import fund_balance
from funds.services.ledger import account, ledger_post
from kernel.clock import booking_day_start
from kernel.money import format_cents


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

    Side effects: a ``Disbursement`` waiting for approval; an ``AccessEvent``. Refused (nothing
    written) for a closed fund or a restricted fund used for another purpose, or a non-positive amount.
    """
    if not cases_visible_to(by, "change").filter(pk=case.pk).exists():
        raise ValidationError(_("Only an attorney working on this case can ask for a payment for it."))
    if amount_cents <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    _check_fund(fund, purpose)
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
    return Disbursement.objects.select_for_update().select_related("fund", "case").get(pk=disbursement.pk)


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


@transaction.atomic
def disbursement_pay(
    *, disbursement: Disbursement, paid_on: date, method: str, reference: str, by: User
) -> Disbursement:
    """Record that an approved disbursement was paid (check or wire), and book it.

    Ledger: a bond moves cash into *bonds receivable* of the fund (the money is expected
    back); anything else is a program expense. A bond also gets a ``Bond`` row in the bond
    register. Refused if the fund no longer holds the money. Side effects: status, payment
    details, a ledger transaction keyed ``disbursement:<id>``; ``AccessEvent``.
    """
    disbursement = _lock(disbursement)
    if disbursement.status != Disbursement.Status.APPROVED:
        raise ValidationError(_("Only an approved disbursement can be recorded as paid."))
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("Record a payment once it has been made.")})
    fund = disbursement.fund
    _check_money(fund, disbursement.amount_cents, counting_committed=False)
    is_bond = disbursement.purpose == Purpose.BOND
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
    if is_bond:
        Bond.objects.create(
            disbursement=disbursement,
            case=disbursement.case,
            fund=fund,
            amount_cents=disbursement.amount_cents,
            paid_on=paid_on,
        )
    _log(by, disbursement, f"paid on {paid_on.isoformat()} by {method}")
    return disbursement


def _lock_bond(bond: Bond) -> Bond:
    bond = Bond.objects.select_for_update().select_related("fund", "case").get(pk=bond.pk)
    if bond.status != Bond.Status.OUTSTANDING:
        raise ValidationError(_("This bond is already closed."))
    return bond


@transaction.atomic
def bond_record_refund(
    *, bond: Bond, refunded_cents: int, interest_cents: int, refunded_on: date, by: User, note: str = ""
) -> Bond:
    """The government refunded a cancelled bond: the money goes back into the bond's fund.

    Ledger (key ``bond-refund:<id>``): bank receives refund + interest; bonds receivable is
    cleared by the bond's amount; interest is income; anything withheld (refund below the
    bond) is written off as forfeited. Side effects: the bond closes; ``AccessEvent``.
    """
    bond = _lock_bond(bond)
    if refunded_cents < 0 or interest_cents < 0:
        raise ValidationError(_("Amounts cannot be negative."))
    if refunded_cents > bond.amount_cents:
        raise ValidationError({"refunded_cents": _("More than the bond was refunded: record the extra as interest.")})
    if refunded_on < bond.paid_on:
        raise ValidationError({"refunded_on": _("The refund cannot come before the bond was paid.")})
    fund = bond.fund
    withheld = bond.amount_cents - refunded_cents
    lines = [
        (account(fund, AccountKind.BANK), refunded_cents + interest_cents),
        (account(fund, AccountKind.BONDS_RECEIVABLE), -bond.amount_cents),
        (account(fund, AccountKind.BOND_INTEREST), -interest_cents),
        (account(fund, AccountKind.BOND_FORFEITURES), withheld),
    ]
    txn = ledger_post(
        key=f"bond-refund:{bond.pk}",
        kind=TransactionKind.BOND_REFUNDED,
        description=f"Bond refunded for case {bond.case.number}",
        lines=lines,
        occurred_at=booking_day_start(refunded_on),
        by=by,
    )
    bond.status = Bond.Status.REFUNDED
    bond.closed_on = refunded_on
    bond.refunded_cents = refunded_cents
    bond.interest_cents = interest_cents
    bond.note = note.strip()
    bond.closed_by = by
    bond.close_transaction = txn
    bond.save()
    access_event_record(
        user=by, action=AccessEvent.Action.CHANGE, object_type="bond", object_ref=bond.case.number, detail="refunded"
    )
    return bond


@transaction.atomic
def bond_record_forfeiture(*, bond: Bond, forfeited_on: date, by: User, note: str) -> Bond:
    """A breached bond is forfeited: written off from bonds receivable. Side effects: ledger
    (key ``bond-forfeit:<id>``); the bond closes; ``AccessEvent``."""
    bond = _lock_bond(bond)
    if forfeited_on < bond.paid_on:
        raise ValidationError({"forfeited_on": _("The forfeiture cannot come before the bond was paid.")})
    fund = bond.fund
    txn = ledger_post(
        key=f"bond-forfeit:{bond.pk}",
        kind=TransactionKind.BOND_FORFEITED,
        description=f"Bond forfeited for case {bond.case.number}",
        lines=[
            (account(fund, AccountKind.BOND_FORFEITURES), bond.amount_cents),
            (account(fund, AccountKind.BONDS_RECEIVABLE), -bond.amount_cents),
        ],
        occurred_at=booking_day_start(forfeited_on),
        by=by,
    )
    bond.status = Bond.Status.FORFEITED
    bond.closed_on = forfeited_on
    bond.note = note.strip()
    bond.closed_by = by
    bond.close_transaction = txn
    bond.save()
    access_event_record(
        user=by, action=AccessEvent.Action.CHANGE, object_type="bond", object_ref=bond.case.number, detail="forfeited"
    )
    return bond

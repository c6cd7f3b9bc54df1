"""The bond lifecycle as ICE runs it: each step a service, recorded once, in order.

Every service here locks the bond row, refuses a step the bond's state does not allow (nothing
written), checks its dates (never in the future, never before the step they follow), books any
money through ``funds.services.ledger`` only, adds a ``BondEvent`` to the bond's history and an
``AccessEvent`` (by case number; an obligor's name never reaches a log). The ledger, per fund:

==============================  ==============================================================
posted (``disbursement_pay``)   bonds receivable +P, bank -P
refund received                 bank (or *due from obligors* for a person-obligor) +R+I,
                                bonds receivable -P, bond interest -I, shortfalls +(P-R)
obligor passes a refund back    bank +x, due from obligors -x
shortfall resolved              bank (or due from obligors) +x, shortfall losses +(S-x), shortfalls -S
forfeited                       forfeitures +P, bonds receivable -P
interest to the breach date     bank (or due from obligors) +I, bond interest -I
==============================  ==============================================================

See ``funds.models.bonds`` for the states and ``funds.bond_rules`` for the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from casework.models import Case, Decision, DecisionOutcome
from funds.bond_rules import (
    bond_minimum_error,
    breach_appeal_deadline,
    interest_cap_cents,
    interest_cap_error,
)
from funds.models import (
    AccountKind,
    Bond,
    BondEvent,
    BondType,
    BreachService,
    Disbursement,
    ObligorKind,
    PostingMethod,
    Transaction,
    TransactionKind,
)
from funds.services.ledger import Line, account, ledger_post
from kernel.clock import booking_day_start
from kernel.money import format_cents

Status = Bond.Status


@dataclass(frozen=True)
class BondTerms:
    """What the I-352 says, recorded when the bond is paid. Defaults fit a bond the fund posts itself."""

    bond_type: str = BondType.DELIVERY
    bond_number: str = ""
    posting_method: str = PostingMethod.UNKNOWN
    posted_on: date | None = None  # the day paid, if not given
    ordered_cents: int | None = None
    obligor_kind: str = ObligorKind.FUND
    obligor_name: str = ""
    obligor_phone: str = ""


def bond_terms_errors(terms: BondTerms, *, amount_cents: int, paid_on: date) -> dict[str, str]:
    """What is wrong with ``terms`` for a bond of ``amount_cents`` paid on ``paid_on``, by form field."""
    errors: dict[str, str] = {}
    if (problem := bond_minimum_error(terms.bond_type, amount_cents)) is not None:
        errors["bond_type"] = problem
    posted_on = terms.posted_on or paid_on
    if posted_on < paid_on:
        errors["posted_on"] = _("A bond is posted with the money paid for it: not before %(date)s.") % {
            "date": date_format(paid_on, "DATE_FORMAT")
        }
    elif posted_on > timezone.localdate():
        errors["posted_on"] = _("Record the bond once it has been posted.")
    if terms.obligor_kind == ObligorKind.PERSON and not terms.obligor_name.strip():
        errors["obligor_name"] = _("Name the obligor: ICE refunds the bond to them, and they pass it back.")
    if terms.ordered_cents is not None and terms.ordered_cents <= 0:
        errors["ordered"] = _("Enter the amount ordered, above zero, or leave it empty.")
    number = terms.bond_number.strip()
    if number and Bond.objects.filter(bond_number=number).exists():
        errors["bond_number"] = _("Another bond already has this number.")
    return errors


def _audit(by: User, bond: Bond, detail: str) -> None:
    access_event_record(
        user=by, action=AccessEvent.Action.CHANGE, object_type="bond", object_ref=bond.case.number, detail=detail
    )


def _event(
    bond: Bond,
    action: BondEvent.Action,
    *,
    on: date,
    by: User,
    note: str = "",
    amount_cents: int | None = None,
    txn: Transaction | None = None,
) -> None:
    BondEvent.objects.create(
        bond=bond,
        action=action,
        on=on,
        amount_cents=amount_cents,
        note=note.strip()[:300],
        recorded_by=by,
        transaction=txn,
    )


@transaction.atomic
def bond_decision_for(case: Case, *, bond_type: str) -> Decision | None:
    """The judge's decision that set the bond: the latest bond grant (or voluntary departure grant)."""
    outcome = DecisionOutcome.VD_GRANTED if bond_type == BondType.VOLUNTARY_DEPARTURE else DecisionOutcome.BOND_GRANTED
    return case.decisions.filter(outcome=outcome).order_by("-decided_on", "-id").first()


def bond_open(*, disbursement: Disbursement, terms: BondTerms, by: User) -> Bond:
    """Open the bond a paid bond disbursement posted. Called by ``disbursement_pay`` in its transaction.

    Refused (``ValidationError`` by field) for terms ``bond_terms_errors`` finds wrong. The bond is
    linked to the custody decision that set it (``bond_decision_for``), whose amount is the amount
    ordered unless the terms say otherwise. Side effects: a ``Bond`` in state *posted* and its first
    ``BondEvent``. The money was booked by the payment.
    """
    assert disbursement.paid_on is not None, "open a bond for a paid disbursement"
    errors = bond_terms_errors(terms, amount_cents=disbursement.amount_cents, paid_on=disbursement.paid_on)
    if errors:
        raise ValidationError(errors)
    person = terms.obligor_kind == ObligorKind.PERSON
    decision = bond_decision_for(disbursement.case, bond_type=terms.bond_type)
    ordered = terms.ordered_cents
    if ordered is None and decision is not None:
        ordered = decision.vd_bond_cents if terms.bond_type == BondType.VOLUNTARY_DEPARTURE else decision.bond_cents
    bond = Bond.objects.create(
        disbursement=disbursement,
        case=disbursement.case,
        fund=disbursement.fund,
        decision=decision,
        amount_cents=disbursement.amount_cents,
        ordered_cents=ordered,
        bond_type=terms.bond_type,
        bond_number=terms.bond_number.strip(),
        posting_method=terms.posting_method,
        paid_on=disbursement.paid_on,
        posted_on=terms.posted_on or disbursement.paid_on,
        obligor_kind=terms.obligor_kind,
        obligor_name=terms.obligor_name.strip() if person else "",
        obligor_phone=terms.obligor_phone.strip() if person else "",
    )
    _event(bond, BondEvent.Action.POSTED, on=bond.posted_on, by=by, amount_cents=bond.amount_cents)
    return bond


# --- Checks every step shares ----------------------------------------------------------------


def _lock(bond: Bond, allowed: tuple[str, ...]) -> Bond:
    bond = Bond.objects.select_for_update(of=("self",)).select_related("fund", "case").get(pk=bond.pk)
    if bond.status in allowed:
        return bond
    if bond.status in Bond.CLOSED_STATES:
        raise ValidationError(_("This bond is already closed."))
    raise ValidationError(
        _("That cannot be recorded for this bond now: it is “%(state)s”.") % {"state": bond.get_status_display()}
    )


def _check_day(field: str, day: date, *after: tuple[date | None, str]) -> None:
    """``day`` is not in the future and not before any of the dates in ``after`` (date, what it was)."""
    if day > timezone.localdate():
        raise ValidationError({field: _("Record it once it has happened: that date is in the future.")})
    for earlier, what in after:
        if earlier is not None and day < earlier:
            raise ValidationError(
                {
                    field: _("That is before %(what)s (%(date)s).")
                    % {"what": what, "date": date_format(earlier, "DATE_FORMAT")}
                }
            )


def _check_cents(field: str, cents: int) -> None:
    if cents < 0:
        raise ValidationError({field: _("Amounts cannot be negative.")})


def _receiving_account(bond: Bond) -> AccountKind:
    """Where the government's money lands: the bank, or the person-obligor, who owes it on."""
    return AccountKind.OBLIGOR_RECEIVABLE if bond.obligor_kind == ObligorKind.PERSON else AccountKind.BANK


def _receive(bond: Bond, cents: int) -> None:
    """Money paid to the obligor: a person then owes it to the fund."""
    if bond.obligor_kind == ObligorKind.PERSON:
        bond.due_from_obligor_cents += cents


def _settle(bond: Bond, *, on: date, by: User, txn: Transaction | None) -> None:
    """After money came in on a refunded bond: what is still owed decides its state."""
    if bond.status == Status.FORFEITED:
        return
    if bond.due_from_obligor_cents:
        bond.status = Status.DUE_FROM_OBLIGOR
    elif bond.shortfall_cents:
        bond.status = Status.SHORTFALL
    else:
        bond.status = Status.REFUNDED
        bond.closed_on = on
        bond.closed_by = by
        bond.close_transaction = txn


def _post(
    bond: Bond, *, key: str, kind: TransactionKind, what: str, lines: list[Line], on: date, by: User
) -> Transaction:
    return ledger_post(
        key=f"{key}:{bond.pk}",
        kind=kind,
        description=f"{what} for case {bond.case.number}",
        lines=lines,
        occurred_at=booking_day_start(on),
        by=by,
    )


# --- Cancellation and refund -------------------------------------------------------------------


@transaction.atomic
def bond_record_cancellation(*, bond: Bond, notice_on: date, by: User, note: str = "") -> Bond:
    """ICE cancelled the bond: the cancellation notice (Form I-391, 8 CFR 103.6(c)) is dated ``notice_on``.

    Only a posted bond. Side effects: state *cancelled*; ``BondEvent``; ``AccessEvent``. No money moves.
    """
    bond = _lock(bond, (Status.POSTED,))
    _check_day("notice_on", notice_on, (bond.posted_on, _("the bond was posted")))
    bond.status = Status.CANCELLED
    bond.cancellation_notice_on = notice_on
    bond.save(update_fields=["status", "cancellation_notice_on"])
    _event(bond, BondEvent.Action.CANCELLATION_NOTICE, on=notice_on, by=by, note=note)
    _audit(by, bond, "cancellation notice (I-391)")
    return bond


@transaction.atomic
def bond_record_refund_claim(*, bond: Bond, claimed_on: date, by: User, note: str = "") -> Bond:
    """The obligor claimed the refund of a cancelled bond on ``claimed_on``.

    Side effects: state *refund claimed*; ``BondEvent``; ``AccessEvent``. No money moves.
    """
    bond = _lock(bond, (Status.CANCELLED,))
    _check_day("claimed_on", claimed_on, (bond.cancellation_notice_on, _("the cancellation notice")))
    bond.status = Status.REFUND_CLAIMED
    bond.refund_claimed_on = claimed_on
    bond.save(update_fields=["status", "refund_claimed_on"])
    _event(bond, BondEvent.Action.REFUND_CLAIMED, on=claimed_on, by=by, note=note)
    _audit(by, bond, "refund claimed")
    return bond


@transaction.atomic
def bond_record_refund(
    *, bond: Bond, refunded_cents: int, interest_cents: int, refunded_on: date, by: User, note: str = ""
) -> Bond:
    """The government refunded a cancelled bond: ``refunded_cents`` of the principal and ``interest_cents``.

    Only after the cancellation notice is recorded (claimed or not). The money goes to the obligor:
    into the fund's bank, or to a person-obligor, who then owes it to the fund (state *due from
    obligor*). A refund below the principal leaves the difference as a shortfall to dispute (state
    *shortfall*), not a forfeiture. Interest above 3 % a year (8 CFR 293.2) is refused as a typo.

    Ledger (key ``bond-refund:<id>``): see the module's table. Side effects: the bond's refund
    figures and state (*refunded* closes it); ``BondEvent``; ``AccessEvent``.
    """
    bond = _lock(bond, Bond.REFUND_STATES)
    _check_cents("refunded_cents", refunded_cents)
    _check_cents("interest_cents", interest_cents)
    if refunded_cents > bond.amount_cents:
        raise ValidationError({"refunded_cents": _("More than the bond was refunded: record the extra as interest.")})
    if refunded_on < bond.paid_on:
        raise ValidationError({"refunded_on": _("The refund cannot come before the bond was paid.")})
    _check_day(
        "refunded_on",
        refunded_on,
        (bond.cancellation_notice_on, _("the cancellation notice")),
        (bond.refund_claimed_on, _("the refund claim")),
    )
    too_much = interest_cap_error(
        interest_cents=interest_cents, principal_cents=bond.amount_cents, deposited_on=bond.posted_on, until=refunded_on
    )
    if too_much:
        raise ValidationError({"interest_cents": too_much})
    fund = bond.fund
    shortfall = bond.amount_cents - refunded_cents
    txn = _post(
        bond,
        key="bond-refund",
        kind=TransactionKind.BOND_REFUNDED,
        what="Bond refunded",
        lines=[
            (account(fund, _receiving_account(bond)), refunded_cents + interest_cents),
            (account(fund, AccountKind.BONDS_RECEIVABLE), -bond.amount_cents),
            (account(fund, AccountKind.BOND_INTEREST), -interest_cents),
            (account(fund, AccountKind.BOND_SHORTFALLS), shortfall),
        ],
        on=refunded_on,
        by=by,
    )
    bond.refunded_on = refunded_on
    bond.refunded_cents = refunded_cents
    bond.interest_cents += interest_cents
    bond.shortfall_cents = shortfall
    bond.note = note.strip()[:300]
    _receive(bond, refunded_cents + interest_cents)
    _settle(bond, on=refunded_on, by=by, txn=txn)
    bond.save()
    _event(
        bond,
        BondEvent.Action.REFUND_RECEIVED,
        on=refunded_on,
        by=by,
        note=note,
        amount_cents=refunded_cents + interest_cents,
        txn=txn,
    )
    _audit(by, bond, f"refund of {refunded_cents} + {interest_cents} interest cents received")
    return bond


@transaction.atomic
def bond_record_pass_back(
    *, bond: Bond, received_on: date, by: User, amount_cents: int | None = None, note: str = ""
) -> Bond:
    """A person-obligor passed (part of) the refund they received back to the fund: ``amount_cents``, all by default.

    For a bond whose obligor still owes money (refunded to them, or the interest of a forfeited
    bond). Ledger (key ``bond-passback:<id>:<n>``): bank +x, due from obligors -x. Side effects: what
    the obligor owes; the bond's state once nothing is owed (*refunded*, or *shortfall* while one
    is disputed); ``BondEvent``; ``AccessEvent``.
    """
    bond = _lock(bond, (Status.DUE_FROM_OBLIGOR, Status.FORFEITED))
    owed = bond.due_from_obligor_cents
    if not owed:
        raise ValidationError(_("The obligor owes nothing on this bond."))
    cents = owed if amount_cents is None else amount_cents
    if not 0 < cents <= owed:
        raise ValidationError({"amount_cents": _("Enter an amount above zero and at most what is owed.")})
    _check_day(
        "received_on",
        received_on,
        (bond.refunded_on, _("the refund")),
        (bond.breach_interest_on, _("the interest payment")),
    )
    fund = bond.fund
    count = bond.events.filter(action=BondEvent.Action.PASSED_BACK).count()
    txn = _post(
        bond,
        key=f"bond-passback:{count + 1}",
        kind=TransactionKind.BOND_PASSED_BACK,
        what="Bond refund passed back by the obligor",
        lines=[(account(fund, AccountKind.BANK), cents), (account(fund, AccountKind.OBLIGOR_RECEIVABLE), -cents)],
        on=received_on,
        by=by,
    )
    bond.due_from_obligor_cents -= cents
    bond.passed_back_cents += cents
    if not bond.due_from_obligor_cents:
        _settle(bond, on=received_on, by=by, txn=txn)
    bond.save()
    _event(bond, BondEvent.Action.PASSED_BACK, on=received_on, by=by, note=note, amount_cents=cents, txn=txn)
    _audit(by, bond, f"{cents} cents passed back by the obligor")
    return bond


@transaction.atomic
def bond_resolve_shortfall(*, bond: Bond, recovered_cents: int, resolved_on: date, by: User, note: str = "") -> Bond:
    """The dispute over a short refund ended: ``recovered_cents`` came back, the rest is written off.

    Ledger (key ``bond-shortfall:<id>``): see the module's table; what is recovered goes to the
    obligor like the refund did. Side effects: the refund total, the shortfall cleared, the state
    (*refunded*, or *due from obligor* when a person received it); ``BondEvent``; ``AccessEvent``.
    """
    bond = _lock(bond, (Status.SHORTFALL,))
    _check_cents("recovered_cents", recovered_cents)
    shortfall = bond.shortfall_cents
    if recovered_cents > shortfall:
        raise ValidationError(
            {
                "recovered_cents": _("The shortfall was %(short)s: record no more than that.")
                % {"short": format_cents(shortfall)}
            }
        )
    _check_day("resolved_on", resolved_on, (bond.refunded_on, _("the refund")))
    fund = bond.fund
    txn = _post(
        bond,
        key="bond-shortfall",
        kind=TransactionKind.BOND_SHORTFALL,
        what="Bond refund shortfall resolved",
        lines=[
            (account(fund, _receiving_account(bond)), recovered_cents),
            (account(fund, AccountKind.BOND_SHORTFALL_LOSSES), shortfall - recovered_cents),
            (account(fund, AccountKind.BOND_SHORTFALLS), -shortfall),
        ],
        on=resolved_on,
        by=by,
    )
    bond.refunded_cents += recovered_cents
    bond.shortfall_cents = 0
    _receive(bond, recovered_cents)
    _settle(bond, on=resolved_on, by=by, txn=txn)
    bond.save()
    _event(
        bond,
        BondEvent.Action.SHORTFALL_RESOLVED,
        on=resolved_on,
        by=by,
        note=note,
        amount_cents=recovered_cents,
        txn=txn,
    )
    _audit(by, bond, f"shortfall resolved, {recovered_cents} of {shortfall} cents recovered")
    return bond


# --- Breach -------------------------------------------------------------------------------------


@transaction.atomic
def bond_record_breach(
    *,
    bond: Bond,
    served_on: date,
    service: str,
    by: User,
    breached_on: date | None = None,
    note: str = "",
) -> Bond:
    """ICE declared the bond breached (Form I-323, 8 CFR 103.6(e)), served on ``served_on`` by ``service``.

    ``served_on`` is the mailing date for a notice sent by mail (service is complete on mailing,
    8 CFR 103.8(b)); ``breached_on`` is the breach date the notice shows, from which no more
    interest accrues (8 CFR 293.1). Computes the day the obligor's appeal (Form I-290B) is due
    (``funds.bond_rules.breach_appeal_deadline``). Only a posted bond: a cancelled bond cannot be
    breached. Side effects: state *breached* with its dates; ``BondEvent``; ``AccessEvent``.
    """
    bond = _lock(bond, (Status.POSTED,))
    service = BreachService(service)
    _check_day("served_on", served_on, (bond.posted_on, _("the bond was posted")))
    if breached_on is not None:
        _check_day("breached_on", breached_on, (bond.posted_on, _("the bond was posted")))
        if breached_on > served_on:
            raise ValidationError({"breached_on": _("The breach comes before the notice of it.")})
    deadline = breach_appeal_deadline(served_on=served_on, service=service)
    bond.status = Status.BREACHED
    bond.breached_on = breached_on
    bond.breach_notice_on = served_on
    bond.breach_service = service
    bond.appeal_due_on = deadline.due
    bond.appeal_filed_on = None
    bond.save(
        update_fields=[
            "status",
            "breached_on",
            "breach_notice_on",
            "breach_service",
            "appeal_due_on",
            "appeal_filed_on",
        ]
    )
    _event(bond, BondEvent.Action.BREACH_NOTICE, on=served_on, by=by, note=note)
    _audit(by, bond, f"breach notice (I-323), appeal due {deadline.due.isoformat()}")
    return bond


@transaction.atomic
def bond_record_breach_appeal(*, bond: Bond, filed_on: date, by: User, note: str = "") -> Bond:
    """The obligor's appeal of the breach (Form I-290B) was received by USCIS on ``filed_on``.

    Recorded even when late (the page then says so: USCIS rejects an untimely appeal). Side
    effects: state *appeal filed*; ``BondEvent``; ``AccessEvent``.
    """
    bond = _lock(bond, (Status.BREACHED,))
    _check_day("filed_on", filed_on, (bond.breach_notice_on, _("the breach notice")))
    bond.status = Status.APPEAL_FILED
    bond.appeal_filed_on = filed_on
    bond.save(update_fields=["status", "appeal_filed_on"])
    _event(bond, BondEvent.Action.APPEAL_FILED, on=filed_on, by=by, note=note)
    _audit(by, bond, "breach appealed (I-290B)" + (" late" if bond.appeal_filed_late else ""))
    return bond


@transaction.atomic
def bond_record_breach_withdrawn(*, bond: Bond, withdrawn_on: date, by: User, note: str = "") -> Bond:
    """ICE withdrew the breach, or the appeal succeeded: the bond is in force again.

    Side effects: state *posted*, the breach dates cleared (the history keeps them); ``BondEvent``;
    ``AccessEvent``.
    """
    bond = _lock(bond, Bond.BREACH_STATES)
    _check_day(
        "withdrawn_on",
        withdrawn_on,
        (bond.breach_notice_on, _("the breach notice")),
        (bond.appeal_filed_on, _("the appeal")),
    )
    bond.status = Status.POSTED
    bond.breached_on = bond.breach_notice_on = bond.appeal_due_on = bond.appeal_filed_on = None
    bond.breach_service = ""
    bond.save(
        update_fields=[
            "status",
            "breached_on",
            "breach_notice_on",
            "breach_service",
            "appeal_due_on",
            "appeal_filed_on",
        ]
    )
    _event(bond, BondEvent.Action.BREACH_WITHDRAWN, on=withdrawn_on, by=by, note=note)
    _audit(by, bond, "breach withdrawn")
    return bond


@transaction.atomic
def bond_record_forfeiture(*, bond: Bond, forfeited_on: date, by: User, note: str) -> Bond:
    """The breach stands: the appeal was dismissed, or the window closed with no appeal. The bond is forfeited.

    Refused while the obligor can still appeal. Ledger (key ``bond-forfeit:<id>``): forfeitures +P,
    bonds receivable -P. The interest to the breach date is still the obligor's: record it with
    ``bond_record_breach_interest`` when it comes. Side effects: the bond closes; ``BondEvent``;
    ``AccessEvent``.
    """
    bond = _lock(bond, (Status.POSTED, *Bond.BREACH_STATES))
    if bond.status == Status.POSTED:
        raise ValidationError(_("Record the breach notice (I-323) first: a bond is forfeited only after a breach."))
    if forfeited_on < bond.paid_on:
        raise ValidationError({"forfeited_on": _("The forfeiture cannot come before the bond was paid.")})
    _check_day(
        "forfeited_on",
        forfeited_on,
        (bond.breach_notice_on, _("the breach notice")),
        (bond.appeal_filed_on, _("the appeal")),
    )
    if bond.status == Status.BREACHED and bond.appeal_due_on and forfeited_on <= bond.appeal_due_on:
        raise ValidationError(
            {
                "forfeited_on": _(
                    "The obligor can appeal until %(due)s: a breach is final only after that day. Record the "
                    "appeal if one was filed."
                )
                % {"due": date_format(bond.appeal_due_on, "DATE_FORMAT")}
            }
        )
    fund = bond.fund
    txn = _post(
        bond,
        key="bond-forfeit",
        kind=TransactionKind.BOND_FORFEITED,
        what="Bond forfeited",
        lines=[
            (account(fund, AccountKind.BOND_FORFEITURES), bond.amount_cents),
            (account(fund, AccountKind.BONDS_RECEIVABLE), -bond.amount_cents),
        ],
        on=forfeited_on,
        by=by,
    )
    bond.status = Status.FORFEITED
    bond.closed_on = forfeited_on
    bond.note = note.strip()[:300]
    bond.closed_by = by
    bond.close_transaction = txn
    bond.save()
    _event(bond, BondEvent.Action.FORFEITED, on=forfeited_on, by=by, note=note, amount_cents=bond.amount_cents, txn=txn)
    _audit(by, bond, "forfeited")
    return bond


@transaction.atomic
def bond_record_breach_interest(
    *, bond: Bond, interest_cents: int, received_on: date, by: User, note: str = ""
) -> Bond:
    """The interest on a forfeited bond up to the date of breach was paid to the obligor (8 U.S.C. 1363(b)).

    Once per bond; zero is accepted (a rate of nothing). Refused above 3 % a year to the breach
    date (8 CFR 293.2). Ledger (key ``bond-interest:<id>``): bank (or due from obligors) +I, bond
    interest -I. Side effects: interest received, what a person-obligor owes; ``BondEvent``;
    ``AccessEvent``.
    """
    bond = _lock(bond, (Status.FORFEITED,))
    if bond.breach_interest_on is not None:
        raise ValidationError(_("The interest on this bond is already recorded."))
    _check_cents("interest_cents", interest_cents)
    _check_day("received_on", received_on, (bond.closed_on, _("the forfeiture")))
    until = bond.breached_on or bond.breach_notice_on or bond.closed_on or received_on
    too_much = interest_cap_error(
        interest_cents=interest_cents, principal_cents=bond.amount_cents, deposited_on=bond.posted_on, until=until
    )
    if too_much:
        raise ValidationError({"interest_cents": too_much})
    txn = None
    if interest_cents:
        fund = bond.fund
        txn = _post(
            bond,
            key="bond-interest",
            kind=TransactionKind.BOND_INTEREST,
            what="Interest to the date of breach",
            lines=[
                (account(fund, _receiving_account(bond)), interest_cents),
                (account(fund, AccountKind.BOND_INTEREST), -interest_cents),
            ],
            on=received_on,
            by=by,
        )
    bond.interest_cents += interest_cents
    bond.breach_interest_on = received_on
    _receive(bond, interest_cents)
    bond.save()
    _event(
        bond, BondEvent.Action.BREACH_INTEREST, on=received_on, by=by, note=note, amount_cents=interest_cents, txn=txn
    )
    _audit(by, bond, f"interest to the breach date received, {interest_cents} cents")
    return bond


# --- Stories for demo data -------------------------------------------------------------------------


class BondStory(StrEnum):
    """Ways a bond's life can go, for ``bond_act_out``."""

    REFUNDED_WITH_INTEREST = "refunded_with_interest"
    REFUNDED_SHORT = "refunded_short"
    PASSED_BACK = "passed_back"  # a person-obligor's bond: refunded to them, handed back to the fund
    BREACHED = "breached"  # the appeal window still open
    APPEALED = "appealed"
    FORFEITED = "forfeited"  # breach upheld, interest to the breach date paid


# Days after the previous step (or the posting) at which each step of a story happens.
_STEP_DAYS = {"cancel": 120, "claim": 10, "refund": 45, "pass_back": 14, "breach": 60, "appeal": 20, "interest": 60}


def bond_story_days(story: BondStory) -> int:
    """How many days after posting ``story`` needs before its last step (so it is not in the future)."""
    if story in (BondStory.REFUNDED_WITH_INTEREST, BondStory.REFUNDED_SHORT):
        return _STEP_DAYS["cancel"] + _STEP_DAYS["claim"] + _STEP_DAYS["refund"]
    if story == BondStory.PASSED_BACK:
        return _STEP_DAYS["cancel"] + _STEP_DAYS["claim"] + _STEP_DAYS["refund"] + _STEP_DAYS["pass_back"]
    if story == BondStory.BREACHED:
        return _STEP_DAYS["breach"]
    if story == BondStory.APPEALED:
        return _STEP_DAYS["breach"] + _STEP_DAYS["appeal"]
    return _STEP_DAYS["breach"] + 40 + _STEP_DAYS["interest"]


@transaction.atomic
def bond_act_out(*, bond: Bond, story: BondStory, by: User) -> Bond:
    """Take a freshly posted ``bond`` through ``story`` with the services above, on plausible dates.

    For demo and test data: every step is a real service call (ledger, history, access log).
    Steps are dated from the posting day (``bond_story_days`` says how long a story needs); interest
    is 1 % a year, within the legal 3 % (8 CFR 293.2). Raises ``ValueError`` when the story would
    end in the future, and ``ValidationError`` as the services do.
    """
    bond = Bond.objects.get(pk=bond.pk)
    if bond.status != Status.POSTED:
        raise ValueError("act out a story from a posted bond")
    if bond.posted_on + timedelta(days=bond_story_days(story)) > timezone.localdate():
        raise ValueError(f"a {story} story needs the bond posted {bond_story_days(story)} days ago or more")
    if (story == BondStory.PASSED_BACK) != (bond.obligor_kind == ObligorKind.PERSON):
        raise ValueError("the passed-back story is the one for a person-obligor's bond")

    def interest_to(day: date) -> int:
        return interest_cap_cents(bond.amount_cents, bond.posted_on, day) // 3

    day = bond.posted_on
    if story in (BondStory.REFUNDED_WITH_INTEREST, BondStory.REFUNDED_SHORT, BondStory.PASSED_BACK):
        day += timedelta(days=_STEP_DAYS["cancel"])
        bond = bond_record_cancellation(bond=bond, notice_on=day, by=by)
        day += timedelta(days=_STEP_DAYS["claim"])
        bond = bond_record_refund_claim(bond=bond, claimed_on=day, by=by)
        day += timedelta(days=_STEP_DAYS["refund"])
        short = bond.amount_cents // 10 if story == BondStory.REFUNDED_SHORT else 0
        bond = bond_record_refund(
            bond=bond,
            refunded_cents=bond.amount_cents - short,
            interest_cents=interest_to(day),
            refunded_on=day,
            by=by,
        )
        if story == BondStory.PASSED_BACK:
            day += timedelta(days=_STEP_DAYS["pass_back"])
            bond = bond_record_pass_back(bond=bond, received_on=day, by=by)
        return bond
    day += timedelta(days=_STEP_DAYS["breach"])
    bond = bond_record_breach(
        bond=bond, served_on=day, service=BreachService.MAIL, breached_on=day - timedelta(days=7), by=by
    )
    if story == BondStory.BREACHED:
        return bond
    if story == BondStory.APPEALED:
        return bond_record_breach_appeal(bond=bond, filed_on=day + timedelta(days=_STEP_DAYS["appeal"]), by=by)
    assert bond.appeal_due_on is not None and bond.breached_on is not None
    forfeited_on, breached_on = bond.appeal_due_on + timedelta(days=1), bond.breached_on
    bond = bond_record_forfeiture(bond=bond, forfeited_on=forfeited_on, by=by, note="Breach upheld")
    return bond_record_breach_interest(
        bond=bond,
        interest_cents=interest_to(breached_on),
        received_on=min(forfeited_on + timedelta(days=_STEP_DAYS["interest"]), timezone.localdate()),
        by=by,
    )

"""The rules of immigration bonds that are arithmetic: minimum amounts, the most interest the
Treasury can pay, and the obligor's deadline to appeal a breach. Pure functions, no database.

Each result carries its citation, so the page can say how it was reached:

* A delivery bond is at least $1,500 (INA 236(a)(2)(A)); a voluntary departure bond at least
  $500 (INA 240B(b)(3); the amount is in 8 CFR 1240.26(c)(3)(i)); an order of supervision bond
  has no minimum in the statute (8 CFR 241.5(b) leaves it to the officer).
* Interest on a cash bond runs from the deposit (the day of deposit not counted) to the refund or
  the breach date (that day counted), at the Treasury's rate, never above 3 % a year
  (8 CFR 293.1, 293.2; 8 U.S.C. 1363(a)). It is paid when the principal is disposed of
  (8 CFR 293.3); on a breach, interest to the breach date still goes to the obligor (8 U.S.C. 1363(b)).
* The obligor may appeal a breach (Form I-323) on Form I-290B within 30 days of service
  (8 CFR 103.3(a)(2)(i)); served by mail, 3 days are added (8 CFR 103.8(b)), and service by mail is
  complete on mailing, so the count starts on the date the notice was mailed, not the day it
  arrived. A last day on a weekend or federal holiday moves to the next business day (8 CFR 1.2,
  "day"). The appeal counts as filed when USCIS receives it (8 CFR 103.2(a)(7)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casework.deadlines import Rule, Service, compute_deadline
from funds.models import BondType, BreachService
from kernel.money import format_cents

BOND_MINIMUM_CENTS: dict[str, int] = {
    BondType.DELIVERY: 1_500_00,
    BondType.VOLUNTARY_DEPARTURE: 500_00,
    BondType.ORDER_OF_SUPERVISION: 0,
}
BOND_MINIMUM_CITATION = {
    # Translators: legal citations; normally left as they are.
    BondType.DELIVERY: _("INA 236(a)(2)(A)"),
    BondType.VOLUNTARY_DEPARTURE: _("INA 240B(b)(3); 8 CFR 1240.26(c)(3)(i)"),
}
INTEREST_CAP_BASIS_POINTS = 300  # 3 % a year: 8 CFR 293.2
BREACH_APPEAL_DAYS = 30  # 8 CFR 103.3(a)(2)(i)
MAIL_DAYS = 3  # 8 CFR 103.8(b)


def bond_minimum_error(bond_type: str, amount_cents: int) -> str | None:
    """Why ``amount_cents`` is too small for a bond of ``bond_type``, or None if it is not."""
    minimum = BOND_MINIMUM_CENTS[BondType(bond_type)]
    if amount_cents >= minimum:
        return None
    return gettext("A %(type)s is at least %(minimum)s (%(citation)s); %(amount)s is less.") % {
        "type": BondType(bond_type).label.lower(),
        "minimum": format_cents(minimum),
        "citation": BOND_MINIMUM_CITATION[BondType(bond_type)],
        "amount": format_cents(amount_cents),
    }


def interest_days(deposited_on: date, until: date) -> int:
    """Days of interest: the deposit day not counted, the refund or breach day counted (8 CFR 293.1)."""
    return max((until - deposited_on).days, 0)


def interest_cap_cents(principal_cents: int, deposited_on: date, until: date) -> int:
    """The most interest the Treasury can pay on ``principal_cents``: 3 % a year, simple (8 CFR 293.2),
    rounded up to the cent so a correctly paid amount is never refused."""
    days = interest_days(deposited_on, until)
    return -(-principal_cents * INTEREST_CAP_BASIS_POINTS * days // (10_000 * 365))


def interest_cap_error(*, interest_cents: int, principal_cents: int, deposited_on: date, until: date) -> str | None:
    """Why ``interest_cents`` cannot be right (more than 3 % a year), or None."""
    cap = interest_cap_cents(principal_cents, deposited_on, until)
    if interest_cents <= cap:
        return None
    return gettext(
        "Interest on a cash bond is at most 3%% a year (8 CFR 293.2): at most %(cap)s on %(principal)s "
        "for %(days)s days. Check the amount received."
    ) % {
        "cap": format_cents(cap),
        "principal": format_cents(principal_cents),
        "days": interest_days(deposited_on, until),
    }


@dataclass(frozen=True)
class BreachAppealDeadline:
    """When the obligor's I-290B appeal of a breach must be received, and how that was reached."""

    served_on: date
    service: BreachService
    days: int  # 30, or 33 when the notice was mailed
    unadjusted: date
    due: date
    explanation: str


def breach_appeal_deadline(*, served_on: date, service: str) -> BreachAppealDeadline:
    """The last day for the obligor's appeal (Form I-290B) of a breach notice (Form I-323).

    Counted by casework's rules (``Rule.BOND_BREACH_APPEAL``), so the count and its explanation are
    the same wherever the deadline shows.
    """
    service = BreachService(service)
    mailed = service == BreachService.MAIL
    computed = (
        compute_deadline(Rule.BOND_BREACH_APPEAL, served_on, service=Service.MAIL)
        if mailed
        else compute_deadline(Rule.BOND_BREACH_APPEAL, served_on)
    )
    return BreachAppealDeadline(
        served_on=served_on,
        service=service,
        days=BREACH_APPEAL_DAYS + (MAIL_DAYS if mailed else 0),
        unadjusted=computed.unadjusted,
        due=computed.due,
        explanation=computed.explanation,
    )

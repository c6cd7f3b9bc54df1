"""Immigration deadlines computed from the rule that sets them.

A missed filing deadline can end a detained person's case, and the people entering dates are
often working from a decision handed over in a hearing room. So the arithmetic lives here, in one
pure package (no models, no database) that can be tested exhaustively, and every result carries
sentences saying how it was reached, with the citation, so a lawyer can check it at a glance.

The package, by object: ``choices`` (Rule, Service, Forum, Counting and ComputedDeadline),
``calendar`` (federal holidays and business days), ``plans`` (what a rule counts, and the words the
planners share), ``appeals`` and ``filings`` (one planner per rule), ``rules`` (each rule's planner,
options and title, and the checks on a call), ``counting`` (the arithmetic and its explanation), and
here the public entry points. Import everything from ``casework.deadlines``; the modules are private
to the package.

Conventions, and why:

* Periods in days are calendar days unless the rule says business days. The triggering day is day 0
  and the next day is day 1 (8 CFR 1001.1(h); EOIR Policy Manual Part II 3.1(c)(1), Part III
  3.1(b)(1)), so a decision on March 2 plus 30 days is April 1.
* A last day on a Saturday, Sunday or legal holiday moves to the next business day, as often as
  needed (8 CFR 1001.1(h); 8 CFR 1003.38(b); 8 CFR 1208.4(a)(2)(ii); for DHS's own periods 8 CFR 1.2).
  The 60 days of voluntary departure move too (Monsalvo Velázquez v. Bondi, U.S. Apr. 22, 2025).
  Three kinds of date never move, because nothing is filed on them or another rule governs:
  limits on the judge (credible- and reasonable-fear review), the lapse of DHS's automatic stay,
  a FOIA appeal (the agency's own rule decides), periods in hours and a birthday.
* Business days (the rule says so: DHS's automatic stay, the voluntary departure bond, FOIA, the
  Board's change of address): day 1 is the first business day after the trigger.
* A petition for review is counted under FRAP 26(a)(1): the same arithmetic with federal holidays,
  but a state holiday where the court of appeals sits, which could extend it, is not counted.
* Pre-hearing filings are counted back from the hearing: the day before it is day 1 (EOIR Policy
  Manual Part II 3.1(c)). A last day on a closed day moves to the business day before, which is
  on time whichever way the manual is read.
* A year runs to the same calendar date a year later: the arrival day is "day zero" (Minasyan v.
  Mukasey, 553 F.3d 1224 (9th Cir. 2009), followed by the USCIS Asylum Division).
* Periods in hours (8 U.S.C. 1232(b)) end at the hour of the event, which is not recorded, so the
  day before is shown: the last day wholly inside the period.
* "Legal holiday" means the US federal holidays of 5 U.S.C. 6103, including the day observed when a
  holiday falls on a weekend (Friday for Saturday, Monday for Sunday), as published by the
  ``holidays`` package. One-off closures by executive order (e.g. December 24, 2024, or the
  national day of mourning on January 9, 2025) are deliberately not counted: they are not in the
  package's default "public" category, and when in doubt the earlier date is the safe one.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from casework.deadlines.calendar import (
    _require_date,
    add_business_days,
    is_business_day,
    next_business_day,
    previous_business_day,
    us_federal_holiday_name,
)
from casework.deadlines.choices import ComputedDeadline, Counting, Forum, Rule, Service
from casework.deadlines.counting import _count, _explain
from casework.deadlines.filings import PREHEARING_KINDS, VD_MAX_DAYS, VD_MAX_DAYS_AT_CONCLUSION
from casework.deadlines.rules import _OPTION_WORDS, _PLANNERS, _TITLES, _choice, _computed_rule, _request

__all__ = [
    "PREHEARING_KINDS",
    "VD_MAX_DAYS",
    "VD_MAX_DAYS_AT_CONCLUSION",
    "ComputedDeadline",
    "Counting",
    "Forum",
    "Rule",
    "Service",
    "add_business_days",
    "compute_deadline",
    "default_title",
    "is_business_day",
    "next_business_day",
    "previous_business_day",
    "rule_counting",
    "us_federal_holiday_name",
]


def default_title(rule: Rule | str, *, forum: Forum | str = Forum.IJ) -> str:
    """A title for a new deadline of this rule, in the active language; "" for a deadline set by hand.

    ``forum`` picks the wording where the rule's filing goes to the immigration court or to the BIA
    (motions, change of address); other rules ignore it.
    """
    title = _TITLES.get(Rule(rule))
    if title is None:
        return ""
    if isinstance(title, dict):
        return str(title[_choice(Forum, forum, _OPTION_WORDS["forum"])])
    return str(title)


def compute_deadline(
    rule: Rule | str,
    source_date: date,
    *,
    service: Service | str = Service.ORAL,
    forum: Forum | str = Forum.IJ,
    hearing_kind: str | None = None,
    detained: bool = False,
    days: int | None = None,
) -> ComputedDeadline:
    """Compute the deadline ``rule`` sets from ``source_date``, with the reasoning in words.

    ``source_date`` is the day the rule counts from: the decision or its mailing or electronic
    service (appeals), the final order (motions, petition for review), the bond order (DHS's
    automatic stay), DHS's notice of appeal (the stay's lapse), the last arrival (asylum), the order
    granting voluntary departure, the briefing schedule, the negative fear determination or the
    referral, the hearing (pre-hearing filings, counted back), the move, the FOIA request's receipt
    or the adverse FOIA determination, the breach notice's service, the child's apprehension or the
    determination that the child is unaccompanied, the date of birth (age-out).

    Optional arguments, each only for the rules it concerns (given to any other rule: ValueError):

    * ``service`` (how the decision was served): the appeal rules name it and count from it; the
      bond-breach appeal adds 3 days for mail; the Board's motion to reconsider counts from its
      mailing; for the other decision-based rules (motions, rescission, petition for review, the
      stay and voluntary-departure rules) the explanation says the period runs from the order itself.
    * ``forum``: motions to reconsider and reopen, the petition for review, the change of address.
    * ``hearing_kind`` ("master" or "individual", required) and ``detained`` (refused: the judge
      sets the deadline): pre-hearing filings.
    * ``detained``: the BIA brief (simultaneous briefs).
    * ``days`` (required, 1 to 120): voluntary departure.

    Also raises ValueError for ``Rule.MANUAL`` (nothing to compute), an unknown rule, anything that
    is not a plain ``date`` (including a ``datetime``), or a date so far out that the deadline would
    leave the calendar.
    """
    computed_rule = _computed_rule(rule)
    source = _require_date(source_date)
    request = _request(computed_rule, source, service, forum, hearing_kind, detained, days)
    plan = _PLANNERS[computed_rule][0](request)
    try:
        unadjusted, due, leap = _count(plan, source)
    except (OverflowError, ValueError) as exc:
        raise ValueError(
            gettext("%(date)s is too late to count a deadline from.") % {"date": source.isoformat()}
        ) from exc
    citation = (
        gettext("%(rule)s; counted under %(counting)s") % {"rule": plan.citation, "counting": plan.counted_under}
        if plan.counted_under
        else plan.citation
    )
    return ComputedDeadline(
        rule=computed_rule,
        source_date=source,
        unadjusted=unadjusted,
        due=due,
        explanation=_explain(plan, source, unadjusted, due, citation, leap=leap),
        citation=citation,
    )


def rule_counting(rule: Rule | str, *, forum: Forum | str = Forum.IJ) -> Counting:
    """How ``rule`` counts (for the README and pages that describe the rules)."""
    computed_rule = _computed_rule(rule)
    forum = _choice(Forum, forum, _OPTION_WORDS["forum"])
    if computed_rule is Rule.CHANGE_OF_ADDRESS and forum == Forum.BIA:
        return Counting.BUSINESS
    return {
        Rule.DHS_STAY_NOTICE: Counting.BUSINESS,
        Rule.DHS_STAY_APPEAL: Counting.BUSINESS,
        Rule.VD_BOND: Counting.BUSINESS,
        Rule.FOIA_RESPONSE: Counting.BUSINESS,
        Rule.PETITION_FOR_REVIEW: Counting.FRAP,
        Rule.PREHEARING_FILING: Counting.BACKWARD,
    }.get(computed_rule, Counting.CALENDAR)

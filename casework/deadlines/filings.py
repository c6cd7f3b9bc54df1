"""Planners for filings and watches outside an appeal: asylum's one year, voluntary departure, BIA briefs,
fear reviews, pre-hearing filings, change of address, FOIA, bond breach appeals and children.
"""

from __future__ import annotations

from django.utils.translation import gettext, ngettext

from casework.deadlines.choices import Forum, Rule, Service
from casework.deadlines.plans import _Closed, _eoir_days, _not_from_arrival, _Plan, _Request, _Unit


def _plan_asylum_one_year(request: _Request) -> _Plan:
    return _Plan(
        1,
        _Unit.YEARS,
        _Closed.FORWARD,
        period=gettext("One year after the last arrival in the United States on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 208(a)(2)(B); 8 CFR 1208.4(a)(2)"),
        notes=[
            gettext(
                "The year does not bar an application filed within a reasonable period after changed "
                "circumstances that affect eligibility or extraordinary circumstances that caused the delay "
                "(INA 208(a)(2)(D); 8 CFR 1208.4(a)(4)-(5)). It does not apply to an unaccompanied child "
                "(INA 208(a)(2)(E)) and never bars withholding of removal or protection under the Convention "
                "Against Torture."
            )
        ],
        leap_note=gettext("%(year)s has no February 29, so the year ends on February 28, the earlier and safer date."),
    )


def _plan_vd_bond(request: _Request) -> _Plan:
    return _Plan(
        5,
        _Unit.BUSINESS_DAYS,
        _Closed.FORWARD,
        period=gettext("5 business days after the order granting voluntary departure of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 240B(b)(3); 8 CFR 1240.26(c)(3)"),
        notes=[
            gettext(
                "The bond (at least $500) is posted with ICE; if it is not posted in time, voluntary departure "
                "falls away and the alternate order of removal takes effect (8 CFR 1240.26(c)(3))."
            ),
            *_not_from_arrival(request),
        ],
    )


# Voluntary departure: up to 120 days before the end of proceedings (INA 240B(a)(2)(A)), 60 at their end
# (INA 240B(b)(2)).
VD_MAX_DAYS = 120
VD_MAX_DAYS_AT_CONCLUSION = 60


def _plan_vd_departure(request: _Request) -> _Plan:
    days = request.days
    if days is None:
        raise ValueError(
            gettext("“%(rule)s” deadlines need the number of days the judge gave to depart.")
            % {"rule": Rule.VD_DEPARTURE.label}
        )
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= VD_MAX_DAYS:
        raise ValueError(
            gettext(
                "A judge can give from 1 to %(max)s days to depart (INA 240B(a)(2)(A), (b)(2)); %(days)r is not possible."
            )
            % {"max": VD_MAX_DAYS, "days": days}
        )
    notes = [
        gettext(
            "Not leaving in time brings a civil fine and a ten-year bar to voluntary departure and most relief "
            "(INA 240B(d)(1)). A motion to reopen or reconsider, or a petition for review, ends the grant and the "
            "alternate order of removal applies (8 CFR 1240.26)."
        )
    ]
    if days > VD_MAX_DAYS_AT_CONCLUSION:
        notes.append(
            gettext("More than 60 days is possible only before the end of proceedings (INA 240B(a)(2)(A), (b)(2)).")
        )
    period = ngettext(
        "%(days)s day after the order granting voluntary departure of %(date)s",
        "%(days)s days after the order granting voluntary departure of %(date)s",
        days,
    )
    return _Plan(
        days,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=period % {"days": days, **request.words},
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 240B(a)(2)(A), (b)(2); 8 CFR 1240.26"),
        # Translators: a legal citation; normally left as it is.
        counted_under=gettext("8 CFR 1001.1(h); Monsalvo Velázquez v. Bondi (U.S. 2025)"),
        notes=[*notes, *_not_from_arrival(request)],
    )


def _plan_bia_brief(request: _Request) -> _Plan:
    if request.detained:
        who = gettext(
            "The person is detained, so both parties file their briefs by the same day (simultaneous briefs)."
        )
    else:
        who = gettext("The appealing party files first; the other party then has 21 more days to respond.")
    return _Plan(
        21,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("21 days after the Board's briefing schedule of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1003.3(c)(1)"),
        counted_under=_eoir_days(),
        notes=[
            who,
            gettext(
                "The Board must receive the brief by that day; if the briefing schedule gives another date, that "
                "date controls."
            ),
        ],
    )


def _judge_limit() -> str:
    return gettext("it is a limit on the judge, not a filing deadline.")


def _plan_credible_fear_review(request: _Request) -> _Plan:
    return _Plan(
        7,
        _Unit.DAYS,
        _Closed.STAYS,
        period=gettext("7 days after the negative credible fear determination of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 235(b)(1)(B)(iii)(III); 8 CFR 1003.42(e)"),
        notes=[
            gettext(
                "The judge is to conclude the review within 24 hours where practicable and in no case later than "
                "this day: prepare at once."
            )
        ],
        stays_reason=_judge_limit(),
    )


def _plan_reasonable_fear_review(request: _Request) -> _Plan:
    return _Plan(
        10,
        _Unit.DAYS,
        _Closed.STAYS,
        period=gettext("10 days after the referral to the immigration judge (Form I-863) was filed on %(date)s")
        % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1208.31(g)"),
        notes=[gettext("Absent exceptional circumstances the judge holds the review by this day: prepare at once.")],
        stays_reason=_judge_limit(),
    )


# The kinds of hearing a pre-hearing filing deadline is counted back from (``casework.HearingKind`` values).
PREHEARING_KINDS = ("master", "individual")


def _plan_prehearing_filing(request: _Request) -> _Plan:
    if request.detained:
        raise ValueError(
            gettext(
                "In a detained case the immigration judge sets pre-hearing filing deadlines (EOIR Policy Manual "
                "Part II 3.1(b)); enter the date the judge set by hand."
            )
        )
    if request.hearing_kind is None:
        raise ValueError(
            gettext("“%(rule)s” deadlines need the kind of hearing: master calendar or individual.")
            % {"rule": Rule.PREHEARING_FILING.label}
        )
    if request.hearing_kind not in PREHEARING_KINDS:
        raise ValueError(
            gettext(
                "Pre-hearing filing deadlines are counted back from a master calendar or an individual hearing, "
                "not from “%(kind)s”."
            )
            % {"kind": str(request.hearing_kind)}
        )
    # Translators: a reference to EOIR's Policy Manual; normally left as it is.
    counted_under = gettext("EOIR Policy Manual Part II 3.1(c)")
    if request.hearing_kind == "master":
        return _Plan(
            15,
            _Unit.DAYS,
            _Closed.BACKWARD,
            period=gettext("15 days before the master calendar hearing of %(date)s") % request.words,
            # Translators: a reference to EOIR's Policy Manual; normally left as it is.
            citation=gettext("EOIR Policy Manual Part II 3.1(b)(1)"),
            counted_under=counted_under,
            notes=[
                gettext(
                    "This applies to filings on which a ruling is wanted at or before the hearing. The court must "
                    "receive the filing by that day; a deadline the judge sets controls."
                )
            ],
        )
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.BACKWARD,
        period=gettext("30 days before the individual hearing of %(date)s") % request.words,
        # Translators: a reference to EOIR's Policy Manual; normally left as it is.
        citation=gettext("EOIR Policy Manual Part II 3.1(b)(2)"),
        counted_under=counted_under,
        notes=[gettext("The court must receive the filing by that day; a deadline the judge sets controls.")],
    )


def _plan_change_of_address(request: _Request) -> _Plan:
    if request.forum == Forum.BIA:
        return _Plan(
            5,
            _Unit.BUSINESS_DAYS,
            _Closed.FORWARD,
            period=gettext("5 working days after the move on %(date)s") % request.words,
            # Translators: a legal citation; normally left as it is.
            citation=gettext("8 CFR 1003.38(e)"),
            notes=[
                gettext(
                    "File Form EOIR-33/BIA with the Board; DHS is told separately, on Form AR-11 within 10 days "
                    "(INA 265(a))."
                )
            ],
        )
    return _Plan(
        5,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("5 days after the move on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1003.15(d)(2)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "File Form EOIR-33/IC with the immigration court; DHS is told separately, on Form AR-11 within "
                "10 days (INA 265(a))."
            )
        ],
    )


def _plan_foia_response(request: _Request) -> _Plan:
    return _Plan(
        20,
        _Unit.BUSINESS_DAYS,
        _Closed.FORWARD,
        period=gettext("20 business days after the agency received the FOIA request on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("5 U.S.C. 552(a)(6)(A)(i)"),
        notes=[
            gettext(
                "This is the agency's deadline: in unusual circumstances it may take up to 10 more working days "
                "by written notice (5 U.S.C. 552(a)(6)(B)(i)); if it misses the deadline, the requester may go to "
                "court without an administrative appeal (5 U.S.C. 552(a)(6)(C)(i))."
            )
        ],
    )


def _plan_foia_appeal(request: _Request) -> _Plan:
    return _Plan(
        90,
        _Unit.DAYS,
        _Closed.STAYS,
        period=gettext("90 days after the agency's adverse FOIA determination of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("5 U.S.C. 552(a)(6)(A)(i)(III)(aa)"),
        notes=[
            gettext(
                "The statute guarantees at least 90 days and the agency's own FOIA rule may allow more; check its "
                "letter."
            )
        ],
        stays_reason=gettext(
            "the agency's own rule decides that, and an appeal can be sent electronically on any day."
        ),
    )


def _plan_bond_breach_appeal(request: _Request) -> _Plan:
    notes = [
        gettext(
            "The appeal is filed on Form I-290B as the breach notice instructs and must be received by that day; "
            "without one, the breach is final and the bond is forfeited."
        )
    ]
    # Translators: a legal citation; normally left as it is.
    counted_under = gettext("8 CFR 1.2")
    if request.service == Service.MAIL:
        return _Plan(
            33,
            _Unit.DAYS,
            _Closed.FORWARD,
            period=gettext("33 days (30, plus 3 for mail) after the breach notice (Form I-323) was mailed on %(date)s")
            % request.words,
            # Translators: a legal citation; normally left as it is.
            citation=gettext("8 CFR 103.3(a)(2)(i), 103.8(b)"),
            counted_under=counted_under,
            notes=notes,
        )
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("30 days after the breach notice (Form I-323) was served on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 103.3(a)(2)(i)"),
        counted_under=counted_under,
        notes=[*notes, gettext("No 3 days are added: they are only for a notice served by mail (8 CFR 103.8(b)).")],
    )


def _plan_uac_hhs_notice(request: _Request) -> _Plan:
    return _Plan(
        48,
        _Unit.HOURS,
        _Closed.STAYS,
        period=gettext(
            "48 hours after DHS apprehended the child, or learned of a claim that the child is under 18, on %(date)s"
        )
        % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 U.S.C. 1232(b)(2)"),
        notes=[
            gettext(
                "DHS must notify HHS (the Office of Refugee Resettlement) within that time; this is a watch on "
                "the agency, not a filing."
            )
        ],
    )


def _plan_uac_transfer(request: _Request) -> _Plan:
    return _Plan(
        72,
        _Unit.HOURS,
        _Closed.STAYS,
        period=gettext("72 hours after DHS determined on %(date)s that the child is unaccompanied") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 U.S.C. 1232(b)(3)"),
        notes=[
            gettext(
                "Except in exceptional circumstances DHS must transfer the child to ORR custody within that time; "
                "this is a watch on the agency, not a filing."
            )
        ],
    )


def _plan_age_out(request: _Request) -> _Plan:
    return _Plan(
        18,
        _Unit.YEARS,
        _Closed.STAYS,
        period=gettext("The 18th birthday of a person born on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 U.S.C. 1232(c)(2)(B)"),
        notes=[
            gettext(
                "On that day ORR custody ends and DHS decides custody, considering the least restrictive setting, "
                "including alternatives to detention (8 U.S.C. 1232(c)(2)(B)); prepare a release plan before then."
            )
        ],
        stays_reason=gettext("a birthday is not a filing."),
        leap_note=gettext(
            "%(year)s has no February 29, so the 18th birthday is taken as February 28, the earlier and safer date."
        ),
    )

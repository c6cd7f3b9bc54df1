"""Planners for decisions and their review: appeals to the BIA, DHS's appeal and automatic stay of bond,
motions to reconsider, reopen and rescind, and the petition for review.
"""

from __future__ import annotations

from django.utils.translation import gettext

from casework.deadlines.choices import Forum, Service
from casework.deadlines.plans import _Closed, _eoir_days, _not_from_arrival, _Plan, _Request, _Unit


def _appeal_period(request: _Request) -> str:
    if request.service == Service.MAIL:
        return gettext("30 days after the mailing of the immigration judge's written decision on %(date)s") % (
            request.words
        )
    if request.service == Service.ELECTRONIC:
        return gettext(
            "30 days after the electronic service of the immigration judge's written decision on %(date)s"
        ) % (request.words)
    return gettext("30 days after the immigration judge's oral decision of %(date)s") % request.words


def _oral_not_restarted(request: _Request) -> list[str]:
    if request.service != Service.ORAL:
        return []
    return [
        gettext(
            "A written summary mailed later does not restart the period "
            "(Matter of Iskandarani, 29 I&N Dec. 26 (BIA 2025))."
        )
    ]


def _plan_bia_appeal(request: _Request) -> _Plan:
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=_appeal_period(request),
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1003.38(b)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "The Board must receive the notice of appeal, with the fee or a fee waiver request, by that day; "
                "mailing it in time is not enough (8 CFR 1003.38(c))."
            ),
            *_oral_not_restarted(request),
        ],
    )


def _plan_dhs_appeal_period(request: _Request) -> _Plan:
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=_appeal_period(request),
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1003.38(b)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "This is DHS's deadline, not a filing: if the Board has not received a DHS notice of appeal by "
                "that day, the decision is final (8 CFR 1003.39; for an order of removal, 8 CFR 1241.1(c)). "
                "Check the Board's case status before treating it as final."
            ),
            *_oral_not_restarted(request),
        ],
    )


def _stay_citation() -> str:
    # Translators: a legal citation; normally left as it is.
    return gettext("8 CFR 1003.19(i)(2), 1003.6(c)(1)")


def _plan_dhs_stay_notice(request: _Request) -> _Plan:
    return _Plan(
        1,
        _Unit.BUSINESS_DAYS,
        _Closed.FORWARD,
        period=gettext("1 business day after the immigration judge's bond order of %(date)s") % request.words,
        citation=_stay_citation(),
        notes=[
            gettext(
                "DHS can stay the release only where it had denied bond or set it at $10,000 or more "
                "(8 CFR 1003.19(i)(2)); while a stay runs, the bond cannot be posted."
            ),
            gettext(
                "If DHS has not filed Form EOIR-43 with the immigration court by the end of that day, there is "
                "no automatic stay and the bond can be posted."
            ),
            *_not_from_arrival(request),
        ],
    )


def _plan_dhs_stay_appeal(request: _Request) -> _Plan:
    return _Plan(
        10,
        _Unit.BUSINESS_DAYS,
        _Closed.FORWARD,
        period=gettext("10 business days after the immigration judge's bond order of %(date)s") % request.words,
        citation=_stay_citation(),
        notes=[
            gettext(
                "If the Board has not received DHS's notice of appeal by then, the automatic stay lapses and the "
                "bond can be posted (8 CFR 1003.6(c)(1))."
            ),
            *_not_from_arrival(request),
        ],
    )


def _plan_dhs_stay_lapse(request: _Request) -> _Plan:
    return _Plan(
        90,
        _Unit.DAYS,
        _Closed.STAYS,
        period=gettext("90 days after DHS filed its notice of appeal of the bond order on %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("8 CFR 1003.6(c)(4)"),
        notes=[
            gettext(
                "The stay ends sooner if the Board decides the appeal, and the 90 days grow by any briefing "
                "extension the Board grants the detained person; DHS may ask the Board for a discretionary stay "
                "(8 CFR 1003.6(c)(4)-(5)). Once the stay lapses, the bond can be posted."
            )
        ],
        stays_reason=gettext("the stay lapses by the passage of time, not by a filing."),
    )


def _plan_motion_to_reconsider(request: _Request) -> _Plan:
    if request.forum == Forum.BIA:
        if request.service == Service.MAIL:
            period = gettext("30 days after the mailing of the Board's decision on %(date)s")
        elif request.service == Service.ELECTRONIC:
            period = gettext("30 days after the electronic service of the Board's decision on %(date)s")
        else:
            period = gettext("30 days after the Board's decision of %(date)s")
        return _Plan(
            30,
            _Unit.DAYS,
            _Closed.FORWARD,
            period=period % request.words,
            # Translators: a legal citation; normally left as it is.
            citation=gettext("INA 240(c)(6)(B); 8 CFR 1003.2(b)(2)"),
            counted_under=_eoir_days(),
            notes=[
                gettext(
                    "It must reach the Board by that day, and only one motion to reconsider a decision is allowed "
                    "(INA 240(c)(6)(A); 8 CFR 1003.2(b)(2))."
                )
            ],
        )
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("30 days after the immigration judge's final order of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 240(c)(6)(B); 8 CFR 1003.23(b)(1)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "It must reach the immigration court by that day, and only one motion to reconsider is allowed "
                "(INA 240(c)(6)(A))."
            ),
            *_not_from_arrival(request),
        ],
    )


def _plan_motion_to_reopen(request: _Request) -> _Plan:
    if request.forum == Forum.BIA:
        return _Plan(
            90,
            _Unit.DAYS,
            _Closed.FORWARD,
            period=gettext("90 days after the Board's final decision of %(date)s") % request.words,
            # Translators: a legal citation; normally left as it is.
            citation=gettext("INA 240(c)(7)(C)(i); 8 CFR 1003.2(c)(2)"),
            counted_under=_eoir_days(),
            notes=[
                gettext(
                    "It must reach the Board by that day, and only one motion to reopen is allowed "
                    "(INA 240(c)(7)(A)). Neither limit applies to a motion based on changed country conditions for "
                    "asylum or withholding, to rescind an in-absentia order, or filed jointly with DHS "
                    "(8 CFR 1003.2(c)(3))."
                ),
                *_not_from_arrival(request),
            ],
        )
    return _Plan(
        90,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("90 days after the immigration judge's final order of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 240(c)(7)(C)(i); 8 CFR 1003.23(b)(1)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "It must reach the immigration court by that day, and only one motion to reopen is allowed "
                "(INA 240(c)(7)(A)). Neither limit applies to a motion based on changed country conditions for "
                "asylum or withholding, to rescind an in-absentia order, or filed jointly with DHS "
                "(8 CFR 1003.23(b)(4))."
            ),
            *_not_from_arrival(request),
        ],
    )


def _plan_motion_to_rescind(request: _Request) -> _Plan:
    return _Plan(
        180,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=gettext("180 days after the in-absentia order of removal of %(date)s") % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 240(b)(5)(C)(i); 8 CFR 1003.23(b)(4)(ii)"),
        counted_under=_eoir_days(),
        notes=[
            gettext(
                "The 180 days are for a failure to appear because of exceptional circumstances; a motion showing "
                "that notice of the hearing was not received, or that the person was in federal or state custody "
                "through no fault of their own, may be filed at any time (INA 240(b)(5)(C)(ii)). Filing it stays "
                "removal until the judge decides; no appeal lies from an in-absentia order (8 CFR 1240.15)."
            ),
            *_not_from_arrival(request),
        ],
    )


def _plan_petition_for_review(request: _Request) -> _Plan:
    if request.forum == Forum.BIA:
        period = gettext("30 days after the Board's final order of %(date)s")
    else:
        period = gettext("30 days after the final order of removal of %(date)s")
    return _Plan(
        30,
        _Unit.DAYS,
        _Closed.FORWARD,
        period=period % request.words,
        # Translators: a legal citation; normally left as it is.
        citation=gettext("INA 242(b)(1); 8 U.S.C. 1252(b)(1)"),
        # Translators: a legal citation; normally left as it is.
        counted_under=gettext("FRAP 26(a)(1)"),
        notes=[
            gettext(
                "Under FRAP 26(a)(1) weekends count; a state holiday where the court of appeals sits could extend "
                "the last day but is not counted: the earlier date is safer."
            ),
            gettext(
                "A motion to reopen or reconsider does not stop this clock (Stone v. INS, 514 U.S. 386 (1995)). "
                "The petition does not stay removal: a motion for a stay must be filed with the court separately "
                "(INA 242(b)(3)(B))."
            ),
            *_not_from_arrival(request),
        ],
    )

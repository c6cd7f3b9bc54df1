"""Each computed rule: its planner, the optional arguments it takes, its default title; and the checks
on a call's arguments against them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casework.deadlines.appeals import (
    _plan_bia_appeal,
    _plan_dhs_appeal_period,
    _plan_dhs_stay_appeal,
    _plan_dhs_stay_lapse,
    _plan_dhs_stay_notice,
    _plan_motion_to_reconsider,
    _plan_motion_to_reopen,
    _plan_motion_to_rescind,
    _plan_petition_for_review,
)
from casework.deadlines.choices import Forum, Rule, Service
from casework.deadlines.filings import (
    _plan_age_out,
    _plan_asylum_one_year,
    _plan_bia_brief,
    _plan_bond_breach_appeal,
    _plan_change_of_address,
    _plan_credible_fear_review,
    _plan_foia_appeal,
    _plan_foia_response,
    _plan_prehearing_filing,
    _plan_reasonable_fear_review,
    _plan_uac_hhs_notice,
    _plan_uac_transfer,
    _plan_vd_bond,
    _plan_vd_departure,
)
from casework.deadlines.plans import _Plan, _Request

# Optional arguments, by name, with the words used when one is given to a rule it does not fit.
_OPTION_WORDS: dict[str, Promise] = {
    "service": _("how the decision was served"),
    "forum": _("who made the decision (immigration judge or BIA)"),
    "hearing_kind": _("the kind of hearing"),
    "detained": _("whether the person is detained"),
    "days": _("a number of days set by the judge"),
}


# Each computed rule: how to plan it, and which optional arguments it takes (anything else given is refused).
_PLANNERS: dict[Rule, tuple[Callable[[_Request], _Plan], frozenset[str]]] = {
    Rule.BIA_APPEAL: (_plan_bia_appeal, frozenset({"service"})),
    Rule.DHS_APPEAL_PERIOD: (_plan_dhs_appeal_period, frozenset({"service"})),
    Rule.DHS_STAY_NOTICE: (_plan_dhs_stay_notice, frozenset({"service"})),
    Rule.DHS_STAY_APPEAL: (_plan_dhs_stay_appeal, frozenset({"service"})),
    Rule.DHS_STAY_LAPSE: (_plan_dhs_stay_lapse, frozenset()),
    Rule.ASYLUM_ONE_YEAR: (_plan_asylum_one_year, frozenset()),
    Rule.MOTION_TO_RECONSIDER: (_plan_motion_to_reconsider, frozenset({"service", "forum"})),
    Rule.MOTION_TO_REOPEN: (_plan_motion_to_reopen, frozenset({"service", "forum"})),
    Rule.MOTION_TO_RESCIND: (_plan_motion_to_rescind, frozenset({"service"})),
    Rule.PETITION_FOR_REVIEW: (_plan_petition_for_review, frozenset({"service", "forum"})),
    Rule.VD_BOND: (_plan_vd_bond, frozenset({"service"})),
    Rule.VD_DEPARTURE: (_plan_vd_departure, frozenset({"service", "days"})),
    Rule.BIA_BRIEF: (_plan_bia_brief, frozenset({"detained"})),
    Rule.CREDIBLE_FEAR_REVIEW: (_plan_credible_fear_review, frozenset()),
    Rule.REASONABLE_FEAR_REVIEW: (_plan_reasonable_fear_review, frozenset()),
    Rule.PREHEARING_FILING: (_plan_prehearing_filing, frozenset({"hearing_kind", "detained"})),
    Rule.CHANGE_OF_ADDRESS: (_plan_change_of_address, frozenset({"forum"})),
    Rule.FOIA_RESPONSE: (_plan_foia_response, frozenset()),
    Rule.FOIA_APPEAL: (_plan_foia_appeal, frozenset()),
    Rule.BOND_BREACH_APPEAL: (_plan_bond_breach_appeal, frozenset({"service"})),
    Rule.UAC_HHS_NOTICE: (_plan_uac_hhs_notice, frozenset()),
    Rule.UAC_TRANSFER: (_plan_uac_transfer, frozenset()),
    Rule.AGE_OUT: (_plan_age_out, frozenset()),
}

_TITLES: dict[Rule, Promise | dict[Forum, Promise]] = {
    Rule.BIA_APPEAL: _("File notice of appeal to the BIA (Form EOIR-26)"),
    Rule.DHS_APPEAL_PERIOD: _("Check whether DHS appealed; if not, the decision is final"),
    Rule.DHS_STAY_NOTICE: _("Check whether DHS filed Form EOIR-43 to stay the bond"),
    Rule.DHS_STAY_APPEAL: _("Check whether DHS appealed the bond order; if not, the stay lapses"),
    Rule.DHS_STAY_LAPSE: _("Automatic stay of the bond order lapses"),
    Rule.ASYLUM_ONE_YEAR: _("File asylum application (Form I-589)"),
    Rule.MOTION_TO_RECONSIDER: {
        Forum.IJ: _("File motion to reconsider with the immigration judge"),
        Forum.BIA: _("File motion to reconsider with the BIA"),
    },
    Rule.MOTION_TO_REOPEN: {
        Forum.IJ: _("File motion to reopen with the immigration judge"),
        Forum.BIA: _("File motion to reopen with the BIA"),
    },
    Rule.MOTION_TO_RESCIND: _("File motion to rescind the in-absentia order"),
    Rule.PETITION_FOR_REVIEW: _("File petition for review in the court of appeals, with a motion for a stay"),
    Rule.VD_BOND: _("Post the voluntary departure bond with ICE"),
    Rule.VD_DEPARTURE: _("Leave the United States under voluntary departure"),
    Rule.BIA_BRIEF: _("File brief with the BIA"),
    Rule.CREDIBLE_FEAR_REVIEW: _("Credible fear review by the immigration judge: latest day"),
    Rule.REASONABLE_FEAR_REVIEW: _("Reasonable fear review by the immigration judge: latest day"),
    Rule.PREHEARING_FILING: _("File evidence and applications before the hearing"),
    Rule.CHANGE_OF_ADDRESS: {
        Forum.IJ: _("File change of address with the immigration court (Form EOIR-33/IC)"),
        Forum.BIA: _("File change of address with the BIA (Form EOIR-33/BIA)"),
    },
    Rule.FOIA_RESPONSE: _("FOIA response due from the agency"),
    Rule.FOIA_APPEAL: _("File FOIA administrative appeal"),
    Rule.BOND_BREACH_APPEAL: _("File appeal of the bond breach (Form I-290B)"),
    Rule.UAC_HHS_NOTICE: _("DHS must have notified HHS of the child"),
    Rule.UAC_TRANSFER: _("DHS must have transferred the child to ORR"),
    Rule.AGE_OUT: _("Turns 18: custody passes from ORR to DHS"),
}


def _computed_rule(rule: Rule | str) -> Rule:
    """The rule, if it is computed; accepts the stored string value too (a model field gives a str)."""
    rule = Rule(rule)
    if rule not in _PLANNERS:
        raise ValueError(gettext("“%(rule)s” deadlines are set by hand, not computed.") % {"rule": rule.label})
    return rule


_Choice = TypeVar("_Choice", bound=models.TextChoices)


def _choice(kind: type[_Choice], value: object, words: Promise) -> _Choice:
    try:
        return kind(str(value))
    except ValueError:
        raise ValueError(
            gettext("%(value)r is not a valid value for %(what)s.") % {"value": value, "what": words}
        ) from None


def _request(
    rule: Rule, source: date, service: object, forum: object, hearing_kind: object, detained: object, days: object
) -> _Request:
    """Check the optional arguments against what ``rule`` takes, and coerce them."""
    if not isinstance(detained, bool):
        raise ValueError(gettext("“detained” must be True or False, not %(value)r.") % {"value": detained})
    if hearing_kind is not None and not isinstance(hearing_kind, str):
        raise ValueError(
            gettext("%(value)r is not a valid value for %(what)s.")
            % {"value": hearing_kind, "what": _OPTION_WORDS["hearing_kind"]}
        )
    request = _Request(
        rule=rule,
        source=source,
        service=_choice(Service, service, _OPTION_WORDS["service"]),
        forum=_choice(Forum, forum, _OPTION_WORDS["forum"]),
        hearing_kind=hearing_kind,
        detained=detained,
        days=days,
    )
    given = {
        "service": request.service != Service.ORAL,
        "forum": request.forum != Forum.IJ,
        "hearing_kind": hearing_kind is not None,
        "detained": detained,
        "days": days is not None,
    }
    accepted = _PLANNERS[rule][1]
    for name, is_given in given.items():
        if is_given and name not in accepted:
            raise ValueError(
                gettext("“%(rule)s” deadlines do not depend on %(option)s.")
                % {"rule": rule.label, "option": _OPTION_WORDS[name]}
            )
    return request

"""Who may do what with money.

- Finance staff approve, reject and pay disbursements (never their own request), record each
  step of a bond's life (notices, refunds, appeals, forfeitures, money an obligor passes back),
  read donations and issue refunds. They see a case as its number on a disbursement or a bond, never
  the detainee's name; a person-obligor's name and phone on the bond's page only.
- An attorney asks for payments for the cases they work on and sees only those cases'
  disbursements (through ``casework.permissions.case_view``); supervisors see any case's.
- Donors see only their own gifts (donor portal); auditors read through the reports pages.
"""

from __future__ import annotations

from django.http import Http404

from accounts.roles import Role
from funds.models import Bond, Disbursement

FINANCE_ROLES = (Role.FINANCE,)


def get_disbursement_for_finance(pk: int) -> Disbursement:
    try:
        return Disbursement.objects.select_related("case", "fund", "requested_by", "decided_by").get(pk=pk)
    except Disbursement.DoesNotExist as exc:
        raise Http404 from exc


def get_bond_for_finance(pk: int) -> Bond:
    try:
        return Bond.objects.select_related("case", "fund", "disbursement").get(pk=pk)
    except Bond.DoesNotExist as exc:
        raise Http404 from exc

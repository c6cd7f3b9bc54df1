from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, user_role

ALL_ROLES = frozenset(Role)

# (label, URL name, roles that see it). Later apps add their entries here.
NAVIGATION = [
    (_("Home"), "accounts:home", {Role.ADMIN}),
    (_("Funds"), "funds:finance-home", {Role.FINANCE}),
    (_("Disbursements"), "funds:disbursement-queue", {Role.FINANCE}),
    (_("Bonds"), "funds:bond-register", {Role.FINANCE}),
    (_("Donations"), "funds:donation-list", {Role.FINANCE}),
    (_("Disputes"), "funds:dispute-list", {Role.FINANCE}),
    (_("Payouts"), "funds:payout-list", {Role.FINANCE}),
    (_("My day"), "casework:dashboard", {Role.ATTORNEY}),
    (_("Triage"), "casework:triage", {Role.SUPERVISOR}),
    (_("New intake"), "casework:intake", {Role.INTAKE, Role.SUPERVISOR}),
    (_("Cases"), "casework:case-list", {Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR}),
    (_("Workload"), "casework:workload", {Role.SUPERVISOR}),
    (_("Search"), "casework:search", {Role.SUPERVISOR}),
    (_("Calendar"), "casework:calendar", {Role.ATTORNEY}),
    (_("Funds"), "reports:funds", {Role.AUDITOR}),
    (_("Ledger"), "reports:ledger", {Role.AUDITOR}),
    (_("Donations"), "reports:donations", {Role.AUDITOR}),
    (_("Disbursements"), "reports:disbursements", {Role.AUDITOR}),
    (_("Bonds"), "reports:bonds", {Role.AUDITOR}),
    (_("Access log"), "reports:access-log", {Role.AUDITOR}),
    (_("Reports"), "reports:report-list", {Role.AUDITOR, Role.FINANCE, Role.SUPERVISOR}),
    (_("Verify a file"), "reports:verify", {Role.AUDITOR, Role.FINANCE}),
    (_("Staff"), "accounts:staff-list", {Role.ADMIN}),
    (_("Access log"), "accounts:access-log", {Role.ADMIN}),
    (_("Admin site"), "admin:index", {Role.ADMIN}),
    (_("Security"), "mfa_index", ALL_ROLES),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    role = user_role(user) if user is not None else None
    if role is None:
        return {"nav_items": [], "user_role_label": None}
    items = []
    for label, url_name, roles in NAVIGATION:
        if role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items, "user_role_label": role.label}

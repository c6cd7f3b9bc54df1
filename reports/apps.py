from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from kernel.navigation import NavEntry

AUDITOR = frozenset({Role.AUDITOR})


class ReportsConfig(AppConfig):
    name = "reports"
    navigation = (
        NavEntry(_("Funds"), "reports:funds", AUDITOR),
        NavEntry(_("Ledger"), "reports:ledger", AUDITOR),
        NavEntry(_("Donations"), "reports:donations", AUDITOR),
        NavEntry(_("Disbursements"), "reports:disbursements", AUDITOR),
        NavEntry(_("Bonds"), "reports:bonds", AUDITOR),
        NavEntry(_("Access log"), "reports:access-log", AUDITOR),
        NavEntry(_("Reports"), "reports:report-list", frozenset({Role.AUDITOR, Role.FINANCE, Role.SUPERVISOR})),
        NavEntry(_("Verify a file"), "reports:verify", frozenset({Role.AUDITOR, Role.FINANCE})),
    )
    start_pages = {Role.AUDITOR: "reports:funds"}

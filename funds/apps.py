from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from kernel.navigation import NavEntry

FINANCE = frozenset({Role.FINANCE})


class FundsConfig(AppConfig):
    name = "funds"
    navigation = (
        NavEntry(_("Funds"), "funds:finance-home", FINANCE),
        NavEntry(_("Disbursements"), "funds:disbursement-queue", FINANCE),
        NavEntry(_("Bonds"), "funds:bond-register", FINANCE),
        NavEntry(_("Donations"), "funds:donation-list", FINANCE),
        NavEntry(_("Disputes"), "funds:dispute-list", FINANCE),
        NavEntry(_("Payouts"), "funds:payout-list", FINANCE),
        NavEntry(_("Parked Stripe events"), "funds:webhook-parked", FINANCE),
    )
    start_pages = {Role.FINANCE: "funds:finance-home"}

    def ready(self) -> None:
        # Importing the module connects its receivers (an erased case's obligors and attachments).
        from funds import receivers  # noqa: F401

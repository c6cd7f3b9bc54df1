from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from kernel.navigation import NavEntry


class AccountsConfig(AppConfig):
    name = "accounts"
    navigation = (
        NavEntry(_("Home"), "accounts:home", frozenset({Role.ADMIN}), weight=0),
        NavEntry(_("Staff"), "accounts:staff-list", frozenset({Role.ADMIN})),
        NavEntry(_("Access log"), "accounts:access-log", frozenset({Role.ADMIN})),
        NavEntry(_("Admin site"), "admin:index", frozenset({Role.ADMIN})),
        NavEntry(_("Security"), "mfa_index", frozenset(Role), weight=900),
    )

    def ready(self) -> None:
        # Importing the modules connects the sign-in bookkeeping receivers and registers the
        # deploy check of the cache the limits count in.
        from accounts import checks, receivers  # noqa: F401

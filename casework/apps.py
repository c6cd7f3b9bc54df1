from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from kernel.navigation import NavEntry


class CaseworkConfig(AppConfig):
    name = "casework"
    navigation = (
        NavEntry(_("My day"), "casework:dashboard", frozenset({Role.ATTORNEY})),
        NavEntry(_("Triage"), "casework:triage", frozenset({Role.SUPERVISOR})),
        NavEntry(_("New intake"), "casework:intake", frozenset({Role.INTAKE, Role.SUPERVISOR})),
        NavEntry(_("Cases"), "casework:case-list", frozenset({Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR})),
        NavEntry(_("Workload"), "casework:workload", frozenset({Role.SUPERVISOR})),
        NavEntry(_("Search"), "casework:search", frozenset({Role.SUPERVISOR})),
        NavEntry(_("Calendar"), "casework:calendar", frozenset({Role.ATTORNEY})),
        NavEntry(_("Legal demands"), "casework:legal-demand-list", frozenset({Role.ADMIN, Role.SUPERVISOR})),
        NavEntry(_("Read alerts"), "casework:read-alert-list", frozenset({Role.ADMIN})),
        NavEntry(_("Erasure"), "casework:erasure-list", frozenset({Role.SUPERVISOR})),
    )
    start_pages = {
        Role.ATTORNEY: "casework:dashboard",
        Role.SUPERVISOR: "casework:triage",
        Role.INTAKE: "casework:intake",
    }

    def ready(self) -> None:
        # Importing the module connects its receivers (a leaver's cases are flagged).
        from casework import receivers  # noqa: F401

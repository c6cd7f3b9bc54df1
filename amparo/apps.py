from django.contrib.admin.apps import AdminConfig


class AmparoAdminConfig(AdminConfig):
    """The Django admin, reached only through Amparo's own sign-in and only by administrators."""

    default_site = "amparo.admin_site.AmparoAdminSite"

    def ready(self) -> None:
        super().ready()
        # amparo is wiring, not an app: its deploy checks (TLS to the back ends, https addresses,
        # no .git on the server) are registered here, by the one AppConfig the package has.
        from amparo import checks  # noqa: F401

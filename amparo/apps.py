from django.contrib.admin.apps import AdminConfig


class AmparoAdminConfig(AdminConfig):
    """The Django admin, reached only through Amparo's own sign-in and only by administrators."""

    default_site = "amparo.admin_site.AmparoAdminSite"

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, user_has_role


class AmparoAdminSite(admin.AdminSite):
    site_header = _("Amparo administration")
    site_title = _("Amparo")
    index_title = _("Records")

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and user_has_role(request.user, Role.ADMIN)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One sign-in for everything (password, then the authenticator code). A signed-in
        # user who is not an administrator learns nothing about the admin: 404.
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

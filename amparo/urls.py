from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import include, path, re_path
from django.views.i18n import set_language

from accounts import views as accounts_views
from amparo.views import healthz


def _not_offered(request, *args, **kwargs):
    raise Http404


# A lost database connection anywhere in a request: "could not confirm", never the 500 page.
handler500 = "kernel.unconfirmed.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Staff cannot sign up or manage e-mail addresses themselves: an administrator invites them.
    path("accounts/signup/", _not_offered, name="account_signup"),
    path("accounts/email/", _not_offered, name="account_email"),
    re_path(r"^accounts/confirm-email/", _not_offered),
    # allauth's recovery-code pages, asking for the password (or a code) every time they show codes.
    path("accounts/2fa/recovery-codes/", accounts_views.view_recovery_codes, name="mfa_view_recovery_codes"),
    path(
        "accounts/2fa/recovery-codes/download/",
        accounts_views.download_recovery_codes,
        name="mfa_download_recovery_codes",
    ),
    path(
        "accounts/2fa/recovery-codes/generate/",
        accounts_views.generate_recovery_codes,
        name="mfa_generate_recovery_codes",
    ),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    path("accounts/", include("allauth.account.urls")),
    path("admin/", admin.site.urls),
    path("", include("casework.urls")),
    path("", include("funds.urls")),
    path("", include("reports.urls")),
    path("", include("accounts.urls")),
]

"""Request-wide rules for signed-in staff: session lifetime, MFA enrolment, no caching."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from accounts.receivers import SIGNED_IN_AT

MFA_ENROLLED = "amparo_mfa_enrolled_user"


class SessionLifetimeMiddleware:
    """End a staff session 12 hours after sign-in, however active it has been.

    The 30-minute idle limit is the session cookie's age, renewed on every request.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            now = timezone.now().timestamp()
            if started is None:
                request.session[SIGNED_IN_AT] = now
            elif now - started > settings.SESSION_ABSOLUTE_MAX_AGE:
                logout(request)
                messages.info(request, _("Your session has ended after 12 hours. Please sign in again."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class RequireMFAMiddleware:
    """A signed-in staff member without an authenticator reaches nothing but enrolment."""

    allowed_url_names = frozenset(
        {
            "mfa_activate_totp",
            "mfa_view_recovery_codes",
            "mfa_download_recovery_codes",
            "account_logout",
            "account_reauthenticate",
            "set_language",
            "healthz",
        }
    )

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and request.session.get(MFA_ENROLLED) != user.pk:
            if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                request.session[MFA_ENROLLED] = user.pk
            elif not self._allowed(request):
                messages.warning(
                    request,
                    _("Before you continue, set up an authenticator app for two-step sign-in."),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _allowed(self, request: HttpRequest) -> bool:
        if request.path.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        ):
            return True
        match = getattr(request, "resolver_match", None)
        if match is None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return True  # a 404 page reveals nothing
        return match.url_name in self.allowed_url_names


class NoStoreForSignedInMiddleware:
    """Pages seen by a signed-in user are never stored by browsers or proxies."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        return response

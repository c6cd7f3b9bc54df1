"""Request-wide rules for signed-in staff: session lifetime and bookkeeping, MFA enrolment, no caching."""

from __future__ import annotations

import logging
import time

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import HASH_SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import services
from accounts.mfa import (
    ENROLMENT_TOKEN_PARAMETER,
    ENROLMENT_TOKEN_SESSION_KEY,
    mfa_enrolled,
    mfa_enrolment_proven,
    mfa_enrolment_token_valid,
    security_event,
)
from accounts.models import User
from accounts.receivers import SIGNED_IN_AT
from kernel.client_ip import client_ip


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


# Sent with the answer that ends a staff or donor session (ASVS 14.3.1): the browser drops
# what it kept of the signed-in pages (its HTTP cache, and local/session storage, IndexedDB,
# service workers of this origin). Not "cookies": that would also drop the language choice and
# the "you have signed out" message set in the same answer, and it adds nothing, because the
# session itself is deleted on the server and Django already expires its cookie. Browsers
# honour the header only over HTTPS (and on localhost).
CLEAR_SITE_DATA = '"cache", "storage"'

# When the session's row was last told that the session was seen (a timestamp in the session).
SEEN_AT = "amparo_session_seen_at"
SEEN_EVERY_SECONDS = 60


def clear_site_data(response: HttpResponse) -> HttpResponse:
    """``response``, with the ``Clear-Site-Data`` header of a sign-out."""
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def _last_reauthentication(session: SessionBase) -> float:
    """When allauth last recorded a re-authentication in ``session`` (0 for never)."""
    records = session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if not isinstance(records, list):
        return 0.0
    return max(
        (float(r.get("at", 0)) for r in records if isinstance(r, dict) and r.get("reauthenticated")),
        default=0.0,
    )


class StaffSessionMiddleware:
    """What follows when a staff session changes during a request.

    - A re-authentication (password or authenticator code, on allauth's pages; allauth only
      records it in the session) gets a new session key, as a sign-in does (ASVS 7.2.4).
    - When the key changed (that, or a password change: ``update_session_auth_hash``), the
      session's ``StaffSession`` row follows, so the session can still be listed and ended.
    - A password changed in this session ends the user's other sessions: Django's session hash
      has made them useless already; here they are deleted with their rows, and the user is told.
    - The row's last-seen time is renewed, at most once a minute.
    - The answer that signs the user out (the sign-out page, or the 12-hour limit of
      ``SessionLifetimeMiddleware``, which therefore comes after this one) carries
      ``Clear-Site-Data``.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        key = session.session_key  # before the user is loaded: that may rotate the key too
        if not request.user.is_authenticated:
            return self.get_response(request)
        user_pk = request.user.pk
        auth_hash = session.get(HASH_SESSION_KEY)
        reauthenticated_at = _last_reauthentication(session)

        response = self.get_response(request)

        user = request.user
        if not user.is_authenticated:
            return clear_site_data(response)
        if user.pk != user_pk:
            return response  # someone else signed in: their sign-in recorded its own row
        if _last_reauthentication(session) > reauthenticated_at:
            session.cycle_key()
        current = session.session_key
        if key and current and current != key:
            services.staff_session_rekeyed(old_key=key, new_key=current)
        if session.get(HASH_SESSION_KEY) != auth_hash:
            ended = services.staff_sessions_end_others(
                user=user, current_session_key=current, ip_address=client_ip(request), reason="password changed"
            )
            if ended:
                messages.info(
                    request,
                    ngettext(
                        "Your other session was signed out.",
                        "Your %(count)d other sessions were signed out.",
                        ended,
                    )
                    % {"count": ended},
                )
        self._seen(session)
        return response

    @staticmethod
    def _seen(session: SessionBase) -> None:
        now = time.time()
        seen = session.get(SEEN_AT)
        if seen is None:
            session[SEEN_AT] = now  # the sign-in set the row's last-seen time
        elif now - seen >= SEEN_EVERY_SECONDS and session.session_key:
            services.staff_session_seen(session_key=session.session_key)
            session[SEEN_AT] = now


class RequireMFAMiddleware:
    """A signed-in staff member without an authenticator reaches nothing but enrolment.

    Whether one is enrolled is read on every request (in the user's own query: see
    ``accounts.backends``), so an authenticator removed takes effect on the very next request.

    After an administrator's reset (``accounts.services.staff_reset_mfa``) enrolment itself is
    refused until this session has opened the link e-mailed with the reset: the password alone does
    not enrol a new authenticator (ASVS 6.4.4). Opening the link (the enrolment page with the
    link's token) keeps the token in the session and sends the browser on to the page without it.
    """

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
    enrolment_url_name = "mfa_activate_totp"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not mfa_enrolled(user):
            if not self._allowed(request):
                messages.warning(
                    request,
                    _("Before you continue, set up an authenticator app for two-step sign-in."),
                )
                return redirect("mfa_activate_totp")
            elif user.mfa_reset_at is not None and self._url_name(request) == self.enrolment_url_name:
                refusal = self._enrolment_after_reset(request, user)
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    def _enrolment_after_reset(self, request: HttpRequest, user: User) -> HttpResponse | None:
        """None if this session may enrol; otherwise the answer (after opening the link, or a refusal)."""
        ip_address = client_ip(request)
        token = request.GET.get(ENROLMENT_TOKEN_PARAMETER)
        if token is not None:
            if mfa_enrolment_token_valid(user, token):
                request.session[ENROLMENT_TOKEN_SESSION_KEY] = token
                security_event("authenticator enrolment link opened", user_id=user.pk, ip_address=ip_address)
                return redirect(self.enrolment_url_name)
            security_event(
                "authenticator enrolment link refused: not valid",
                user_id=user.pk,
                ip_address=ip_address,
                level=logging.WARNING,
            )
            return render(request, "mfa/enrolment_link_required.html", {"link_invalid": True}, status=400)
        if mfa_enrolment_proven(request.session, user):
            return None
        security_event(
            "authenticator enrolment refused: the e-mailed link was not opened",
            user_id=user.pk,
            ip_address=ip_address,
            level=logging.WARNING,
        )
        return render(request, "mfa/enrolment_link_required.html", {"link_invalid": False}, status=403)

    def _allowed(self, request: HttpRequest) -> bool:
        if request.path.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        ):
            return True
        name = self._url_name(request)
        return name is None or name in self.allowed_url_names  # None: a 404 page reveals nothing

    @staticmethod
    def _url_name(request: HttpRequest) -> str | None:
        """The URL name of the page asked for; None for a path that resolves to nothing."""
        match = getattr(request, "resolver_match", None)
        if match is None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return None
        return match.url_name


class NoStoreForSignedInMiddleware:
    """Pages seen by a signed-in user are never stored by browsers or proxies."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        return response

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Protocol

from allauth.account.app_settings import REAUTHENTICATION_TIMEOUT
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY, get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes import views as recovery_code_views
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import InviteForm, RoleForm, StaffFilterForm
from accounts.models import StaffSession, User
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role, user_role
from kernel.client_ip import client_ip
from kernel.concurrency import VERSION_FIELD, EditConflict, save_if_unchanged, show_conflict, versioned
from kernel.forms import add_validation_errors
from kernel.navigation import start_page
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect, submission
from kernel.pagination import keyset_page


def _recovery_codes_left(user: User) -> int | None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    if authenticator is None:
        return None
    return len(RecoveryCodes(authenticator).get_unused_codes())


@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The landing page: what this role does, and the state of one's own sign-in security."""
    role = user_role(request.user)
    # Roles whose work starts on another app's page (declared in that app's AppConfig) land there.
    role_start = start_page(role.value) if role else None
    if role_start:
        return redirect(role_start)
    context: dict[str, object] = {"role": role, "recovery_codes_left": _recovery_codes_left(request.user)}
    if role == Role.ADMIN:
        context["role_counts"] = [(Role(name).label, n) for name, n in selectors.staff_role_counts().items()]
        context["pending_invitations"] = selectors.staff_list(status="invited").count()
    template = f"accounts/home/{role.value}.html" if role else "accounts/home/no_role.html"
    return render(request, template, context)


def _get_staff_or_404(pk: int) -> User:
    try:
        return selectors.staff_detail(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404 from exc


@role_required(Role.ADMIN)
@require_GET
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    users = selectors.staff_list(q=filters.get("q", ""), role=filters.get("role", ""), status=filters.get("status", ""))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/staff_list.html", {"form": form, "page": page})


@role_required(Role.ADMIN)
def staff_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Invite a person; the same form sent twice is one account and one invitation e-mail."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with submission(key=data[ONCE_FIELD], form="accounts.staff-invite", user=request.user) as sent:
                user = services.staff_invite(
                    email=data["email"],
                    full_name=data["full_name"],
                    role=Role(data["role"]),
                    by=request.user,
                    ip_address=client_ip(request),
                )
                sent.result_url = reverse("accounts:staff-detail", kwargs={"pk": user.pk})
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=reverse("accounts:staff-list"))
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("accounts:staff-detail", pk=user.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/staff_invite.html", {"form": form}, status=status)


def _role_values(user: User) -> dict[str, str]:
    """What the role form shows of ``user``: its ``initial``, and what the save compares."""
    role = user_role(user)
    return {"role": role.value if role else ""}


def _staff_detail_page(
    request: AuthenticatedHttpRequest, staff: User, *, role_form: RoleForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "staff": staff,
        "staff_role": user_role(staff),
        "role_form": role_form or RoleForm(initial=versioned(_role_values(staff))),
        # The invitation e-mail is sent once per form, however often the button is pressed.
        "resend_form": OnceForm(auto_id=False),
        "has_totp": Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists(),
        "sessions": services.staff_sessions_open(user=staff),
        "events": selectors.access_events(user=staff)[:20],
        "is_self": staff.pk == request.user.pk,
    }
    return render(request, "accounts/staff_detail.html", context, status=status)


@role_required(Role.ADMIN)
@require_GET
def staff_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _staff_detail_page(request, _get_staff_or_404(pk))


class _StaffAction(Protocol):
    def __call__(self, *, user: User, by: User, ip_address: str | None) -> object: ...


def _staff_action(
    request: AuthenticatedHttpRequest, pk: int, action: _StaffAction, success: str, **params: object
) -> HttpResponse:
    staff = _get_staff_or_404(pk)
    try:
        action(user=staff, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success % {"name": staff, **params})
    return redirect("accounts:staff-detail", pk=staff.pk)


@role_required(Role.ADMIN)
@require_POST
def staff_set_role(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a staff member's role, unless someone changed it since the page was opened: then
    the page again (409) with the role chosen kept and the role they now have named."""
    staff = _get_staff_or_404(pk)
    form = RoleForm(request.POST, initial=versioned(_role_values(staff)))
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed roles."))
        return redirect("accounts:staff-detail", pk=pk)
    role = Role(form.cleaned_data["role"])
    try:
        save_if_unchanged(
            instance=staff,
            version=form.cleaned_data[VERSION_FIELD],
            values=_role_values,
            save=lambda locked: services.staff_set_role(
                user=locked, role=role, by=request.user, ip_address=client_ip(request)
            ),
        )
    except EditConflict as conflict:
        show_conflict(form, conflict)
        return _staff_detail_page(request, staff, role_form=form, status=409)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s now has the role %(role)s.") % {"name": staff, "role": role.label})
    return redirect("accounts:staff-detail", pk=staff.pk)


@role_required(Role.ADMIN)
@require_POST
def staff_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _staff_action(
        request, pk, services.staff_deactivate, _("%(name)s is deactivated and signed out everywhere.")
    )


@role_required(Role.ADMIN)
@require_POST
def staff_reactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, services.staff_reactivate, _("%(name)s can sign in again."))


@role_required(Role.ADMIN)
@require_POST
def staff_resend_invitation(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A fresh invitation e-mail; the same button's form sent twice sends it once."""
    staff = _get_staff_or_404(pk)
    here = reverse("accounts:staff-detail", kwargs={"pk": staff.pk})
    form = OnceForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        with submission(
            key=form.cleaned_data[ONCE_FIELD], form="accounts.staff-resend-invitation", user=request.user
        ) as sent:
            services.staff_resend_invitation(user=staff, by=request.user, ip_address=client_ip(request))
            sent.result_url = here
    except AlreadySubmitted as done:
        return already_submitted_redirect(request, done, fallback=here)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("A new invitation is on its way to %(name)s.") % {"name": staff})
    return redirect(here)


@role_required(Role.ADMIN)
@require_POST
def staff_reset_mfa(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _staff_action(
        request, pk, services.staff_reset_mfa, _("%(name)s will set up a new authenticator at the next sign-in.")
    )


@role_required(Role.ADMIN)
@require_POST
def staff_sign_out_everywhere(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, services.staff_sign_out_everywhere, _("%(name)s is signed out of every session."))


@role_required(Role.ADMIN)
@require_POST
def staff_sign_out_everyone(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every session but this one ends (ASVS 7.4.5); only after re-authenticating."""
    if not fresh_reauthentication(request):
        raise ReauthenticationRequired  # allauth asks again, then sends this request on
    ended = services.sessions_end_all(
        by=request.user, current_session_key=request.session.session_key, ip_address=client_ip(request)
    )
    messages.success(
        request,
        ngettext("%(count)d session is signed out.", "%(count)d sessions are signed out.", ended) % {"count": ended},
    )
    return redirect("accounts:staff-list")


# The access log's order (``AccessEvent.Meta.ordering``, a unique key) and its page size.
ACCESS_LOG_ORDER = ("-at", "-id")
ACCESS_LOG_PER_PAGE = 100


@role_required(Role.ADMIN)
@require_GET
def access_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Newest first, "older"/"newer" links: no COUNT(*) over the whole log and no OFFSET, so the
    # thousandth page costs what the first does (an index range on ``at``).
    events = selectors.access_events()
    page = keyset_page(events, params=request.GET, ordering=ACCESS_LOG_ORDER, per_page=ACCESS_LOG_PER_PAGE)
    return render(request, "accounts/access_log.html", {"page": page, "staff_list_url": reverse("accounts:staff-list")})


# --- Recovery codes: a re-authentication for every showing -----------------------------------


def fresh_reauthentication(request: HttpRequest) -> bool:
    """Whether the user re-authenticated (password or authenticator code, on allauth's
    re-authentication page) within ``REAUTHENTICATION_TIMEOUT``, and no showing of the recovery
    codes has used that re-authentication yet. A sign-in, however recent, does not count."""
    records = get_authentication_records(request, request.user)
    confirmed = [float(r["at"]) for r in records if r.get("reauthenticated") and "at" in r]
    return bool(confirmed) and time.time() - max(confirmed) < REAUTHENTICATION_TIMEOUT


def spend_reauthentication(request: HttpRequest) -> None:
    """The codes were shown: the re-authentication that allowed it no longer counts for anything.

    Side effect: allauth's authentication records in the session keep the entries, marked as
    ``spent`` instead of ``reauthenticated``, so allauth's own "recently re-authenticated" check
    says no as well."""
    records = get_authentication_records(request, request.user)
    if any(r.get("reauthenticated") for r in records):
        spent = [{**{k: v for k, v in r.items() if k != "reauthenticated"}, "spent": True} for r in records]
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = spent


def recovery_codes_page(view: Callable[..., HttpResponse], *, shows_codes: bool) -> Callable[..., HttpResponse]:
    """allauth's recovery-code page ``view``, asking for re-authentication every time.

    allauth accepts any re-authentication of the last few minutes, so one password check would
    show the codes again and again. Here each page that shows the codes (``shows_codes``) uses
    up the re-authentication; the page that makes new codes needs one too and leads to the page
    that shows them, which then uses it.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated and not fresh_reauthentication(request):
            raise ReauthenticationRequired  # allauth's middleware sends the user to re-authenticate
        response = view(request, *args, **kwargs)
        if shows_codes:
            render = getattr(response, "render", None)
            if callable(render):
                response = render()  # the codes are read while rendering: make that happen here
            if response.status_code == 200:
                spend_reauthentication(request)
        return response

    return wrapped


view_recovery_codes = recovery_codes_page(recovery_code_views.view_recovery_codes, shows_codes=True)
download_recovery_codes = recovery_codes_page(recovery_code_views.download_recovery_codes, shows_codes=True)
_generate_recovery_codes = recovery_codes_page(recovery_code_views.generate_recovery_codes, shows_codes=False)


@wraps(_generate_recovery_codes)
def generate_recovery_codes(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """allauth's page that makes new recovery codes; once they are made, someone signed in
    elsewhere may be the reason, so a person with other open sessions is first asked whether to
    end them (``sessions_after_change``), then sees the codes."""
    response = _generate_recovery_codes(request, *args, **kwargs)
    codes_made = (
        request.method == "POST"
        and response.status_code == 302
        and response["Location"] == reverse("mfa_view_recovery_codes")
    )
    if codes_made and request.user.is_authenticated and _other_open_sessions(request):
        request.session[FACTOR_CHANGED] = {"what": "recovery_codes", "at": time.time()}
        return redirect("accounts:sessions-after-change")
    return response


# --- One's own sessions ----------------------------------------------------------------------

# What a person just changed about their sign-in, so that the next page may offer to end their
# other sessions (ASVS 7.4.3); kept in the session for FACTOR_CHANGED_SECONDS, used once.
FACTOR_CHANGED = "amparo_factor_changed"
FACTOR_CHANGED_SECONDS = 10 * 60


def _other_open_sessions(request: AuthenticatedHttpRequest) -> list[StaffSession]:
    current = request.session.session_key
    return [row for row in services.staff_sessions_open(user=request.user) if row.session_key != current]


@role_required(*Role)
@require_GET
def my_sessions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where one is signed in: each open session with its start, last activity and browser."""
    current = request.session.session_key
    sessions = [(row, row.session_key == current) for row in services.staff_sessions_open(user=request.user)]
    return render(
        request,
        "accounts/sessions.html",
        {"sessions": sessions, "others": sum(1 for _row, is_current in sessions if not is_current)},
    )


@role_required(*Role)
@require_POST
def my_session_end(request: AuthenticatedHttpRequest) -> HttpResponse:
    """End one of one's other sessions; only after re-authenticating (ASVS 7.5.2)."""
    try:
        session_id = int(request.POST.get("session", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Choose a session to end."), content_type="text/plain; charset=utf-8")
    if not fresh_reauthentication(request):
        raise ReauthenticationRequired  # allauth asks again, then sends this request on
    try:
        services.staff_session_end(
            user=request.user,
            session_id=session_id,
            current_session_key=request.session.session_key,
            ip_address=client_ip(request),
        )
    except StaffSession.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("That session is signed out."))
    return redirect("accounts:sessions")


@role_required(*Role)
@require_POST
def my_sessions_end_others(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sign out everywhere but here; only after re-authenticating (ASVS 7.5.2)."""
    if not fresh_reauthentication(request):
        raise ReauthenticationRequired
    ended = services.staff_sessions_end_others(
        user=request.user, current_session_key=request.session.session_key, ip_address=client_ip(request)
    )
    messages.success(
        request,
        ngettext("%(count)d other session is signed out.", "%(count)d other sessions are signed out.", ended)
        % {"count": ended},
    )
    return redirect("accounts:sessions")


@require_http_methods(["GET", "POST"])
def sessions_after_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Right after one's recovery codes were renewed: "Sign out of your other sessions?".

    Only then (a 404 otherwise). The renewal itself needed a re-authentication, so this answer
    does not ask again; it is taken once, and either way the new codes are shown next.
    """
    changed = request.session.get(FACTOR_CHANGED)
    if not isinstance(changed, dict) or time.time() - float(changed.get("at", 0)) > FACTOR_CHANGED_SECONDS:
        raise Http404
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice not in {"end", "keep"}:
            return HttpResponseBadRequest(
                _("Choose whether to sign out of your other sessions."), content_type="text/plain; charset=utf-8"
            )
        del request.session[FACTOR_CHANGED]
        if choice == "end":
            ended = services.staff_sessions_end_others(
                user=request.user,
                current_session_key=request.session.session_key,
                ip_address=client_ip(request),
                reason="recovery codes renewed",
            )
            messages.success(
                request,
                ngettext("%(count)d other session is signed out.", "%(count)d other sessions are signed out.", ended)
                % {"count": ended},
            )
        return redirect("mfa_view_recovery_codes")
    return render(request, "accounts/sessions_after_change.html", {"others": _other_open_sessions(request)})

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role, user_role
from casework.ics import attorney_calendar
from casework.models import CalendarFeed
from casework.services.calendar import calendar_feed_create, calendar_feed_revoke, token_digest
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect, submission

NEW_TOKEN = "casework_new_calendar_token"


@role_required(Role.ATTORNEY, Role.SUPERVISOR)
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create, replace or revoke one's secret calendar address (the address is shown once)."""
    form = OnceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("action") == "revoke":  # revoking twice is revoking once: no key needed
            calendar_feed_revoke(user=request.user)
            messages.success(request, _("Your calendar address no longer works."))
            return redirect("casework:calendar")
        if form.is_valid():
            # A doubled "create" would replace the address just shown with another: the key makes
            # the repeat show the page instead (the address itself is shown only once).
            try:
                with submission(key=form.cleaned_data[ONCE_FIELD], form="casework.calendar-create", user=request.user):
                    token = calendar_feed_create(user=request.user)
            except AlreadySubmitted as done:
                return already_submitted_redirect(request, done, fallback=reverse("casework:calendar"))
            request.session[NEW_TOKEN] = token
            messages.success(request, _("Here is your new calendar address. Any older one stopped working."))
            return redirect("casework:calendar")
    token = request.session.pop(NEW_TOKEN, None)
    feed_url = request.build_absolute_uri(reverse("casework:calendar-feed", kwargs={"token": token})) if token else None
    live = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()
    context = {"feed_url": feed_url, "live": live, "form": form if form.is_bound else OnceForm()}
    return render(request, "casework/calendar.html", context, status=400 if form.is_bound else 200)


@login_not_required
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS feed. The secret token is the credential; a revoked or unknown one is 404.

    Over plain http while the site runs on HTTPS, 403 and nothing looked up: the address is exempt
    from the HTTPS redirect (SECURE_REDIRECT_EXEMPT) so that the token is not sent a second time,
    and the answer says to renew the address, whose token has now crossed the network in clear."""
    if settings.HTTPS and not request.is_secure():
        return HttpResponseForbidden(
            _(
                "Use https:// for this calendar address. It was just sent without encryption: "
                "create a new calendar address in Amparo and use that one instead."
            ),
            content_type="text/plain; charset=utf-8",
        )
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_sha256=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None or user_role(feed.user) not in (Role.ATTORNEY, Role.SUPERVISOR):
        raise Http404
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    response = HttpResponse(attorney_calendar(feed.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="amparo.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response

"""The Django admin: administrators only, everything it changes in the access log, code-defined records read-only.

- Who: only active users with the administrator role (``has_permission``); anyone else signed in gets 404.
- What it records: every admin request that may write runs in one transaction, and before it commits
  the admin's log entries of that request are copied into the append-only access log
  (``accounts.admin_log``): who, which model, which object id, which fields, never the values. If the
  access log cannot be written, the change is rolled back. Admin actions (other than "delete
  selected", which writes log entries) are recorded one row per object.
- What it may not change: records whose truth is in the code. Periodic tasks are defined in
  ``settings.CELERY_BEAT_SCHEDULE`` and the roles in ``accounts.roles``; django-celery-beat's tables
  and the role groups are only the database's copy, so the admin shows them read-only, for every
  user, superusers included, with no actions (its "disable" or "run" actions would write without
  a trace). Otherwise an administrator could re-point the daily reminders to another task, or switch
  them off. On start, beat puts its tables back in line with the code (``amparo.celery``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Model
from django.db.models.base import ModelBase
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin_log import admin_action_record, admin_changes_record, latest_log_entry_id
from accounts.models import User
from accounts.roles import Role, user_has_role
from kernel.client_ip import client_ip

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Apps and models ("app_label" or "app_label.model_name") whose rows are defined in code.
READ_ONLY = frozenset({"django_celery_beat", "auth.group"})


def is_read_only(model: type[Model]) -> bool:
    """Whether the admin shows ``model`` read-only (its rows are the database's copy of the code)."""
    return bool({model._meta.app_label, model._meta.label_lower} & READ_ONLY)


class ReadOnlyAdminMixin:
    """Shows the rows, changes none of them: no add, change, delete or action, for anyone."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


class AuditedActionsMixin:
    """Each admin action run is recorded in the access log, one row per object it was run on.

    "Delete selected" is left alone: Django writes a log entry for each object it deletes, which
    the site copies into the access log like any other change.
    """

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {
            name: (func if func is delete_selected else _audited_action(func, name), name, description)
            for name, (func, _name, description) in actions.items()
        }


def _audited_action(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @wraps(func)
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any) -> Any:
        with transaction.atomic():
            object_ids: Iterable[object] = list(queryset.values_list("pk", flat=True))
            response = func(modeladmin, request, queryset)
            admin_action_record(
                user=cast(User, request.user),  # the admin site lets only signed-in administrators in
                app_label=modeladmin.opts.app_label,
                model_name=modeladmin.opts.model_name or "",
                action=name,
                object_ids=object_ids,
                ip_address=client_ip(request),
            )
        return response

    return action


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

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Register as Django does, every model admin with audited actions, code-defined ones read-only.

        Every ``@admin.register`` (ours and the packages') goes through here, so no model admin
        escapes the policy, whichever app registers it.
        """
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        for model in cast(list[type[Model]], models):
            base = admin_class or admin.ModelAdmin
            mixins = (ReadOnlyAdminMixin,) if is_read_only(model) else (AuditedActionsMixin,)
            policy = type(base.__name__, (*mixins, base), {"__module__": base.__module__})
            super().register(model, policy, **options)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(_logged_in_access_log(view), cacheable)


def _logged_in_access_log(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view``, with what it changes copied into the access log in the same transaction."""

    @wraps(view)
    def logged(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            after = latest_log_entry_id()
            response = view(request, *args, **kwargs)
            admin_changes_record(user=request.user, after_id=after, ip_address=client_ip(request))
        return response

    return logged

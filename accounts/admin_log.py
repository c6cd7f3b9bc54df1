"""Every change made through the Django admin, in the access log: who, which model, which object, which fields.

Django's admin writes a ``LogEntry`` for each addition, change and deletion it makes (its own history,
which an administrator could clear with a database shell and nobody would know). The admin site
(``amparo.admin_site``) runs each admin request that may write in one transaction and, before it
commits, copies that request's log entries into the append-only ``AccessEvent`` log through
``admin_changes_record``; admin actions are recorded by ``admin_action_record``. If the access log
cannot be written, the change is rolled back with it.

Only names are copied, never values: the model, the object's id, the labels of the fields that
changed, the kind of related object added or deleted. A log entry's ``object_repr`` (the object as
text, which may hold a person's name) is not copied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.db import models, transaction

from accounts.models import AccessEvent, User
from accounts.services import access_event_record

OBJECT_TYPE_PREFIX = "admin:"
_OBJECT_TYPE_MAX = AccessEvent._meta.get_field("object_type").max_length or 50


def admin_object_type(app_label: str, model_name: str) -> str:
    """The access log's ``object_type`` of an admin change: ``"admin:django_celery_beat.periodictask"``."""
    return f"{OBJECT_TYPE_PREFIX}{app_label}.{model_name}"[:_OBJECT_TYPE_MAX]


def latest_log_entry_id() -> int:
    """The id of the newest admin ``LogEntry`` (0 when there is none): entries after it are new."""
    return LogEntry.objects.aggregate(latest=models.Max("pk"))["latest"] or 0


def change_summary(entry: LogEntry) -> str:
    """What an admin ``LogEntry`` did, in words an auditor reads, without any value.

    ``"added"``, ``"deleted"``, ``"changed: Name, Enabled"``, ``"changed: no fields"``;
    related objects changed on the same page (inlines) are named by their kind only:
    ``"changed: Name; added email address"``.
    """
    if entry.action_flag == ADDITION:
        return "added"
    if entry.action_flag == DELETION:
        return "deleted"
    try:
        messages = json.loads(entry.change_message or "[]")
    except json.JSONDecodeError:
        # A hand-written message (not the admin's own JSON) may hold anything: it is not copied.
        return "changed"
    fields: list[str] = []
    related: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        for verb, details in message.items():
            details = details if isinstance(details, dict) else {}
            if verb == "changed" and "name" not in details:
                fields.extend(str(field) for field in details.get("fields", []))
            elif verb in ("added", "changed", "deleted"):
                # Never ``details["object"]``: the related object as text.
                what = str(details.get("name", "object"))
                changed = details.get("fields") or []
                related.append(f"{verb} {what}" + (f" ({', '.join(map(str, changed))})" if changed else ""))
    parts = [f"changed: {', '.join(dict.fromkeys(fields)) or 'no fields'}", *related]
    return "; ".join(parts)


@transaction.atomic
def admin_changes_record(*, user: User, after_id: int, ip_address: str | None = None) -> int:
    """Copy ``user``'s admin log entries newer than ``after_id`` into the access log; return how many.

    Called by the admin site inside the transaction of the request that made the changes, so the
    changes and their access-log rows commit together or not at all. Side effects: one
    ``AccessEvent`` (change) per admin ``LogEntry``: ``object_type`` ``"admin:<app>.<model>"``,
    ``object_ref`` the object's id, ``detail`` from ``change_summary`` (never a value).
    """
    entries = LogEntry.objects.filter(user_id=user.pk, pk__gt=after_id).select_related("content_type").order_by("pk")
    count = 0
    for entry in entries:
        content_type = entry.content_type
        object_type = (
            admin_object_type(content_type.app_label, content_type.model) if content_type else OBJECT_TYPE_PREFIX
        )
        access_event_record(
            user=user,
            action=AccessEvent.Action.CHANGE,
            object_type=object_type,
            object_ref=str(entry.object_id or ""),
            detail=f"admin: {change_summary(entry)}",
            ip_address=ip_address,
        )
        count += 1
    return count


@transaction.atomic
def admin_action_record(
    *,
    user: User,
    app_label: str,
    model_name: str,
    action: str,
    object_ids: Iterable[object],
    ip_address: str | None = None,
) -> int:
    """Record that ``user`` ran the admin action ``action`` on the objects ``object_ids``; return how many.

    Admin actions other than "delete selected" may update rows without writing any ``LogEntry``
    (``queryset.update``), so the admin site records each one here. Side effects: one
    ``AccessEvent`` (change) per object, ``detail`` ``"admin action: <action>"``.
    """
    count = 0
    for object_id in object_ids:
        access_event_record(
            user=user,
            action=AccessEvent.Action.CHANGE,
            object_type=admin_object_type(app_label, model_name),
            object_ref=str(object_id),
            detail=f"admin action: {action}",
            ip_address=ip_address,
        )
        count += 1
    return count

"""Reads of staff accounts and the access log that more than one view needs."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import AccessEvent, StaffSession, User
from accounts.roles import ROLE_NAMES, Role


def staff_list(*, q: str = "", role: str = "", status: str = "") -> QuerySet[User]:
    role_name = Group.objects.filter(user=OuterRef("pk"), name__in=ROLE_NAMES).values("name")[:1]
    last_sign_in = (
        AccessEvent.objects.filter(user=OuterRef("pk"), action=AccessEvent.Action.SIGN_IN)
        .order_by("-at")
        .values("at")[:1]
    )
    users = User.objects.annotate(role_name=Subquery(role_name), last_sign_in=Subquery(last_sign_in))
    if q:
        users = users.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    if role in ROLE_NAMES:
        users = users.filter(groups__name=role)
    if status == "inactive":
        users = users.filter(is_active=False)
    elif status == "invited":
        users = users.filter(is_active=True, password__startswith="!")
    elif status != "all":
        users = users.filter(is_active=True)
    return users.order_by("full_name", "email")


def staff_role_counts() -> dict[str, int]:
    rows = (
        Group.objects.filter(name__in=ROLE_NAMES, user__is_active=True)
        .values("name")
        .annotate(n=Count("user"))
        .values_list("name", "n")
    )
    counts = dict.fromkeys(Role.values, 0)
    counts.update(dict(rows))
    return counts


def staff_detail(*, pk: int) -> User:
    return User.objects.prefetch_related(
        Prefetch("staff_sessions", queryset=StaffSession.objects.order_by("-started_at"))
    ).get(pk=pk)


def access_events(*, user: User | None = None, object_type: str = "", object_ref: str = "") -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.select_related("user")
    if user is not None:
        events = events.filter(user=user)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_ref:
        events = events.filter(object_ref=object_ref)
    return events.order_by("-at", "-id")


def staff_sign_in_addresses(*, user: User, since: datetime, limit: int = 100) -> list[str]:
    """The addresses ``user`` completed a sign-in from since ``since`` (the access log's sign-in
    rows), most recent first, at most ``limit`` of them (one query)."""
    rows = (
        AccessEvent.objects.filter(user=user, action=AccessEvent.Action.SIGN_IN, at__gte=since)
        .exclude(ip_address=None)
        .values_list("ip_address", flat=True)
        .order_by("-at")[: limit * 4]
    )
    return list(dict.fromkeys(str(ip) for ip in rows))[:limit]

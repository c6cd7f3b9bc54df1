from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from accounts.roles import user_role
from kernel.navigation import nav_entries_for


def navigation(request: HttpRequest) -> dict:
    """The menu of the signed-in user's role, from the entries each app declares."""
    user = getattr(request, "user", None)
    role = user_role(user) if user is not None else None
    if role is None:
        return {"nav_items": [], "user_role_label": None}
    items = []
    for entry in nav_entries_for(role.value):
        url = reverse(entry.url_name)
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active})
    return {"nav_items": items, "user_role_label": role.label}

"""The six staff roles. A role is a Django group; a staff member has exactly one."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ATTORNEY = "attorney", _("Attorney")
    SUPERVISOR = "supervisor", _("Supervising attorney")
    FINANCE = "finance", _("Finance")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


ROLE_NAMES = frozenset(Role.values)


def user_role(user) -> Role | None:
    """The user's role, read once per request object and cached on it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_amparo_role", _UNSET)
    if cached is _UNSET:
        name = user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True).first()
        cached = Role(name) if name else None
        user._amparo_role = cached
    return cached


def user_has_role(user, *roles: Role) -> bool:
    return user_role(user) in roles


_UNSET = object()

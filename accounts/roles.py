"""The six staff roles. A role is a Django group; a staff member has exactly one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


class Role(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ATTORNEY = "attorney", _("Attorney")
    SUPERVISOR = "supervisor", _("Supervising attorney")
    FINANCE = "finance", _("Finance")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


ROLE_NAMES = frozenset(Role.values)

# The attribute on a user object that caches its role (``user_role_groups_set`` clears it).
ROLE_CACHE_ATTRIBUTE = "_amparo_role"


def user_role(user: User | AnonymousUser | None) -> Role | None:
    """The user's role, read once per request object and cached on it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, ROLE_CACHE_ATTRIBUTE, _UNSET)
    if cached is None or isinstance(cached, Role):
        return cached
    name = user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True).first()
    role = Role(name) if name else None
    setattr(user, ROLE_CACHE_ATTRIBUTE, role)
    return role


def user_has_role(user: User | AnonymousUser | None, *roles: Role) -> bool:
    return user_role(user) in roles


_UNSET = object()

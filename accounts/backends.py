"""The sign-in backend: allauth's, with the signed-in user of each request loaded in one query.

Every signed-in request loads its user afresh (``AuthenticationMiddleware``, through the session's
backend's ``get_user``). Here that one ``SELECT`` also brings the user's role (``accounts.roles``)
and whether an authenticator is enrolled (``accounts.mfa``), as annotations, so that neither costs
a query of its own on each page. Nothing is cached across requests: a deactivation, a changed or
removed role, a removed authenticator are seen by the very next request, as before.

Only the query's SQL is kept, once per process: building that ``SELECT`` through the ORM on every
request cost three times as long as running it (about 2.5 of 3.5 ms on the tiny signed-in page).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Subquery

from accounts.mfa import AUTHENTICATOR_ENROLLED_ATTRIBUTE
from accounts.models import User
from accounts.roles import ROLE_CACHE_ATTRIBUTE, ROLE_NAMES, Role


def users_with_role_and_authenticator() -> Any:
    """Users annotated with their role's name (``role_name``, the first role group as
    ``accounts.roles.user_role`` reads it) and whether a TOTP authenticator is enrolled."""
    return User._default_manager.annotate(
        role_name=Subquery(
            Group.objects.filter(user=OuterRef("pk"), name__in=ROLE_NAMES).order_by("pk").values("name")[:1]
        ),
        has_authenticator=Exists(Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)),
    )


_ANY_PK = -424242  # stands for the user's id while the SQL is built once


@cache
def _user_query(alias: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``users_with_role_and_authenticator().filter(pk=…)`` on database ``alias`` and
    its parameters, the id left off the end (the ``WHERE`` comes after the annotations' subqueries)."""
    query = users_with_role_and_authenticator().filter(pk=_ANY_PK).query
    sql, params = query.get_compiler(using=alias).as_sql()
    if not params or params[-1] != _ANY_PK or _ANY_PK in params[:-1]:
        raise RuntimeError("the signed-in user's query no longer ends with its id")  # pragma: no cover
    return sql, tuple(params[:-1])


def signed_in_user(user_id: Any) -> User | None:
    """The user ``user_id`` with ``role_name`` and ``has_authenticator``, or ``None``."""
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:  # a session that names no valid id signs nobody in
        return None
    alias = User._default_manager.db
    sql, params = _user_query(alias)
    found = list(User._default_manager.raw(sql, (*params, pk)).using(alias))
    return found[0] if found else None


class StaffAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (sign-in by e-mail and password), whose ``get_user`` reads the user, the
    role and the authenticator's presence in one query and leaves them where
    ``accounts.roles.user_role`` and ``accounts.mfa.mfa_enrolled`` look first."""

    def get_user(self, user_id: Any) -> User | None:
        user = signed_in_user(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        name = getattr(user, "role_name", None)
        setattr(user, ROLE_CACHE_ATTRIBUTE, Role(name) if name in ROLE_NAMES else None)
        setattr(user, AUTHENTICATOR_ENROLLED_ATTRIBUTE, bool(getattr(user, "has_authenticator", False)))
        return user

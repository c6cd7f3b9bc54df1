"""The sign-in backend: allauth's, with the signed-in user of each request loaded in one query.

Every signed-in request loads its user afresh (``AuthenticationMiddleware``, through the session's
backend's ``get_user``). Here that one ``SELECT`` also brings the user's role (``accounts.roles``)
and whether an authenticator is enrolled (``accounts.mfa``), as annotations, so that neither costs
a query of its own on each page. Nothing is cached across requests: a deactivation, a changed or
removed role, a removed authenticator are seen by the very next request, as before.
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
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


class StaffAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (sign-in by e-mail and password), whose ``get_user`` reads the user, the
    role and the authenticator's presence in one query and leaves them where
    ``accounts.roles.user_role`` and ``accounts.mfa.mfa_enrolled`` look first."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = users_with_role_and_authenticator().get(pk=user_id)
        except User.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        name = getattr(user, "role_name", None)
        setattr(user, ROLE_CACHE_ATTRIBUTE, Role(name) if name in ROLE_NAMES else None)
        setattr(user, AUTHENTICATOR_ENROLLED_ATTRIBUTE, bool(getattr(user, "has_authenticator", False)))
        return user

"""Role checks for views. Object-level checks live in each app's ``permissions.py``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse

from accounts.roles import Role, user_role


def role_required(*roles: Role) -> Callable:
    """Allow the view only to signed-in users holding one of ``roles``.

    Anyone else gets a 404, so that the page's existence is not revealed. Sign-in
    itself is enforced earlier by ``LoginRequiredMiddleware``.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if user_role(request.user) not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)
        return wrapper

    return decorator

"""Role checks for views. Object-level checks live in each app's ``permissions.py``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from accounts.roles import Role, user_role

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import User

View = Callable[..., HttpResponseBase]


class AuthenticatedHttpRequest(HttpRequest):
    """The request every staff view receives, for the type checker.

    ``LoginRequiredMiddleware`` has turned away anyone not signed in, so ``user`` is a staff
    member (views marked ``login_not_required`` take a plain ``HttpRequest``), and
    django-htmx's middleware has set ``htmx``. django-stubs and django-htmx document this
    subclass-annotation pattern; no such object is ever created.
    """

    user: User
    htmx: HtmxDetails


def role_required(*roles: Role) -> Callable[[View], View]:
    """Allow the view only to signed-in users holding one of ``roles``.

    Anyone else gets a 404, so that the page's existence is not revealed. Sign-in
    itself is enforced earlier by ``LoginRequiredMiddleware``.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if user_role(request.user) not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

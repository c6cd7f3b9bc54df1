"""Who may see and change which case. The only door to a case is ``get_case_for_user``.

- Supervisors see and change every case.
- Attorneys see and change the cases they are assigned to: assignment grants django-guardian
  ``view_case``/``change_case`` on that case (direct-FK table) and ending it revokes them.
- Intake staff see the cases they registered while those are in intake or triage.
- Everyone else (finance, auditors, administrators) sees no case page at all.

A case the user may not see is a 404, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Literal

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpResponseNotAllowed
from django.http.response import HttpResponseBase

from accounts.permissions import AuthenticatedHttpRequest, View
from accounts.roles import Role, user_role
from casework.models import Case, CaseStatus, CaseUserObjectPermission

if TYPE_CHECKING:
    from accounts.models import User

Perm = Literal["view", "change"]
INTAKE_VISIBLE_STATUSES = (CaseStatus.INTAKE, CaseStatus.TRIAGE)
CASEWORK_ROLES = (Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR)


def _granted(user: User, perm: Perm) -> Exists:
    return Exists(
        CaseUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user=user, permission__codename=f"{perm}_case"
        )
    )


def cases_visible_to(user: User, perm: Perm = "view") -> QuerySet[Case]:
    """Every case ``user`` may see (or change), filtered in the database."""
    role = user_role(user)
    cases = Case.objects.all()
    if role == Role.SUPERVISOR:
        return cases
    if role == Role.ATTORNEY:
        return cases.filter(_granted(user, perm))
    if role == Role.INTAKE and perm == "view":
        return cases.filter(registered_by=user, status__in=INTAKE_VISIBLE_STATUSES)
    return cases.none()


def get_case_for_user(user: User, number: str, perm: Perm = "view") -> Case:
    """The case with public ``number`` if ``user`` may ``perm`` it; otherwise ``Http404``."""
    try:
        return cases_visible_to(user, perm).select_related("detainee", "court", "facility").get(number=number)
    except Case.DoesNotExist as exc:
        raise Http404 from exc


def can_change(user: User, case: Case) -> bool:
    return cases_visible_to(user, "change").filter(pk=case.pk).exists()


def case_view(
    perm: Perm = "view", methods: tuple[str, ...] = ("GET",), roles: tuple[Role, ...] = CASEWORK_ROLES
) -> Callable[[View], View]:
    """Decorate a view of one case: role check, then the case (or 404), then the method.

    The object is checked before the method, so someone who may not see a case gets 404
    whatever they send. The view receives the case instead of its number.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, number: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if user_role(request.user) not in roles:
                raise Http404
            # One transaction for the read and its access-log row (``record_view``): if the row
            # cannot be written, the read is refused and nothing of the case is rendered.
            with transaction.atomic():
                case = get_case_for_user(request.user, number, perm)
                if request.method not in methods:
                    return HttpResponseNotAllowed(methods)
                return view(request, case, *args, **kwargs)

        return wrapper

    return decorator

"""The two records every casework write leaves: a line on the case's timeline and an access-log row."""

from __future__ import annotations

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from casework.models import Case, CaseEvent


def case_event(case: Case, kind: CaseEvent.Kind, summary: str, actor: User | None) -> CaseEvent:
    """One line on the case's timeline. ``summary`` never holds the detainee's name or A-number."""
    return CaseEvent.objects.create(case=case, kind=kind, summary=summary[:300], actor=actor)


def case_changed(case: Case, by: User, detail: str, *, ip_address: str | None = None) -> None:
    """The access-log row of a change to ``case`` by ``by``, from the client address ``ip_address``."""
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="case",
        object_ref=case.number,
        detail=detail,
        ip_address=ip_address,
    )

"""Keyset pagination ("seek method") for long lists: no ``COUNT(*)`` and no ``OFFSET``.

A page of Django's ``Paginator`` costs a count of every matching row, then an ``OFFSET`` that
reads and throws away every row before the page: both grow with the table. A keyset page
instead remembers where the last page ended (the values of its sort key in the last row, the
*cursor*) and asks for the rows after it, which an index on the sort key finds directly::

    WHERE occurred_at <= %(at)s AND (occurred_at < %(at)s OR id < %(id)s)
    ORDER BY occurred_at DESC, id DESC LIMIT 51

So page one and page ten thousand cost the same. What it gives up: a page number and a total
("page 3 of 812"); a list offers "newer"/"older" (or "previous"/"next") links and a link back
to the start instead.

Use it in a view::

    page = keyset_page(queryset, params=request.GET, ordering=("-occurred_at", "-id"), per_page=50)
    # page.object_list, page.has_next, page.next_query ("?status=paid&after=…"), …

and ``{% include "partials/keyset_pagination.html" %}`` in the template (it reads ``page``).

Rules for the ordering:

- its fields are the model's own, non-null columns, and the last is unique (end with ``"id"``
  or ``"-id"``), so every row has one place in the order;
- an index on those columns (same order or all reversed) makes each page an index range scan;
  the list's filters go in front of it (``(status, created_at, id)``) where one is selective;
- the cursor shows those values in the URL (``after=…``, base64 JSON): order only by
  timestamps, dates, ids and the like, never by personal data.

A cursor that cannot be read (edited, truncated, from an older version of the list) is treated
as none: the list starts at its first page, as Django's ``Paginator.get_page`` does with a
page number that is out of range.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet

AFTER = "after"  # the query parameter of the page after a cursor (older, in a newest-first list)
BEFORE = "before"  # ... and of the page before one
LAST = "last"  # the last page (the first page of the reversed order): ``?last=1``
PAGE = "page"  # Django's page number: dropped from the links, a keyset list has none

T = TypeVar("T", bound=Model)


class InvalidCursor(ValueError):
    """A cursor that does not decode to one value per ordering field."""


@dataclass
class KeysetPage(Generic[T]):
    """One page of a keyset-paginated list, and the links to its neighbours.

    ``next_query``/``previous_query``/``first_query``/``last_query`` are query strings (with their ``?``) that
    keep every other parameter of the request (the list's filters); empty when there is no such
    page. ``descending`` says whether the list is newest first (for the links' words).
    """

    object_list: list[T]
    has_next: bool
    has_previous: bool
    descending: bool
    next_query: str = ""
    previous_query: str = ""
    first_query: str = ""
    last_query: str = ""
    ordering: tuple[str, ...] = field(default=())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def _field_names(ordering: Sequence[str]) -> list[tuple[str, bool]]:
    """``("-at", "id")`` as ``[("at", True), ("id", False)]``: each field and whether it descends."""
    return [(name.removeprefix("-"), name.startswith("-")) for name in ordering]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """The cursor for a row whose ordering fields have ``values`` (URL-safe, no padding)."""
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_values(cursor: str) -> list[Any]:
    """The plain JSON values of ``cursor`` (for a list whose cursor is not one row's fields)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(values, list):
        raise InvalidCursor(cursor)
    return values


def decode_cursor(cursor: str, *, model: type[Model], ordering: Sequence[str]) -> list[Any]:
    """The ordering values of ``cursor``, each made a Python value by its model field."""
    values = decode_values(cursor)
    names = _field_names(ordering)
    if not isinstance(values, list) or len(values) != len(names):
        raise InvalidCursor(cursor)
    result = []
    for (name, _descending), value in zip(names, values, strict=True):
        if value is None or isinstance(value, list | dict):
            raise InvalidCursor(cursor)
        try:
            result.append(model._meta.get_field(name).to_python(value))  # type: ignore[union-attr]
        except (ValidationError, TypeError, ValueError) as exc:
            raise InvalidCursor(cursor) from exc
    return result


def _beyond(ordering: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows after (``forward``) or before the row with ``values`` in ``ordering``.

    Written as ``a ≤ x AND (a < x OR (a = x AND b < y) …)`` for a descending ``(a, b)``: the
    first, redundant bound is what lets an index on ``(a, b)`` start the scan at the cursor.
    """
    names = _field_names(ordering)
    condition = Q()
    equal = Q()
    for (name, descending), value in zip(names, values, strict=True):
        downward = descending if forward else not descending
        condition |= equal & Q(**{f"{name}__{'lt' if downward else 'gt'}": value})
        equal &= Q(**{name: value})
    first_name, first_descending = names[0]
    first_downward = first_descending if forward else not first_descending
    return Q(**{f"{first_name}__{'lte' if first_downward else 'gte'}": values[0]}) & condition


def _row_values(row: Model, ordering: Sequence[str]) -> list[Any]:
    return [getattr(row, row._meta.get_field(name).attname) for name, _d in _field_names(ordering)]  # type: ignore[union-attr]


def query_string(params: Mapping[str, Any], **changes: str) -> str:
    """``params`` without any cursor or page number, plus ``changes``, as ``?a=1&b=2`` (or ``"?"``)."""
    items: list[tuple[str, str]] = []
    getlist = getattr(params, "getlist", None)
    for key in params:
        if key in (AFTER, BEFORE, LAST, PAGE):
            continue
        for value in getlist(key) if getlist else [params[key]]:
            items.append((key, value))
    items.extend(changes.items())
    return f"?{urlencode(items)}"


def keyset_page(
    queryset: QuerySet[T], *, params: Mapping[str, Any], ordering: Sequence[str], per_page: int
) -> KeysetPage[T]:
    """The page of ``queryset`` (filtered already) that ``params`` (``request.GET``) asks for.

    ``params[AFTER]`` is the cursor of the last row of the page before, ``params[BEFORE]`` that of
    the first row of the page after, ``params[LAST]`` asks for the last page (read backwards from
    the end, as cheap as the first); none: the first page. Costs one query of at most
    ``per_page + 1`` rows (the extra row tells whether there is a page beyond).
    """
    if not ordering:
        raise ValueError("keyset pagination needs an ordering that ends with a unique field")
    for name, _descending in _field_names(ordering):
        try:
            queryset.model._meta.get_field(name)
        except FieldDoesNotExist as exc:
            raise ValueError(f"keyset ordering field {name!r} is not a field of {queryset.model.__name__}") from exc
    reversed_ordering = [name[1:] if name.startswith("-") else f"-{name}" for name in ordering]
    direction, cursor = AFTER, params.get(AFTER) or ""
    if not cursor and params.get(BEFORE):
        direction, cursor = BEFORE, params.get(BEFORE) or ""
    values: list[Any] | None = None
    if cursor:
        try:
            values = decode_cursor(str(cursor), model=queryset.model, ordering=ordering)
        except InvalidCursor:
            values = None
    if values is None and params.get(LAST):
        rows = list(queryset.order_by(*reversed_ordering)[: per_page + 1])
        has_next, has_previous = False, len(rows) > per_page
        rows = rows[:per_page][::-1]
    elif values is None:
        rows = list(queryset.order_by(*ordering)[: per_page + 1])
        has_next, has_previous = len(rows) > per_page, False
        rows = rows[:per_page]
    elif direction == AFTER:
        rows = list(queryset.filter(_beyond(ordering, values, forward=True)).order_by(*ordering)[: per_page + 1])
        has_next, has_previous = len(rows) > per_page, True
        rows = rows[:per_page]
    else:
        rows = list(
            queryset.filter(_beyond(ordering, values, forward=False)).order_by(*reversed_ordering)[: per_page + 1]
        )
        has_next, has_previous = True, len(rows) > per_page
        rows = rows[:per_page][::-1]
    if not rows:
        # Past either end (the rows beyond a cursor were deleted, or an old link): offer the start.
        has_next, has_previous = False, values is not None
    page = KeysetPage(
        object_list=rows,
        has_next=has_next,
        has_previous=has_previous,
        descending=ordering[0].startswith("-"),
        ordering=tuple(ordering),
    )
    if has_next and rows:
        page.next_query = query_string(params, **{AFTER: encode_cursor(_row_values(rows[-1], ordering))})
    if has_previous and rows:
        page.previous_query = query_string(params, **{BEFORE: encode_cursor(_row_values(rows[0], ordering))})
    if has_previous:
        page.first_query = query_string(params)
    if has_next:
        page.last_query = query_string(params, **{LAST: "1"})
    return page

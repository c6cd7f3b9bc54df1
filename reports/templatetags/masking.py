"""``{% load masking %}``: free text on the audit pages with known names and A-numbers masked.

Make one masker for the rows of a page, then pass each text through it, so the page asks the
database once whatever its length::

    {% masker page.object_list "payee" as masker %}
    {% for d in page.object_list %}{{ d.payee|masked:masker }}{% endfor %}

Without a masker, ``{{ text|masked }}`` still masks, at a query per text.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from casework.masking import Masker

register = template.Library()


@register.simple_tag
def masker(objects: Iterable[object], *fields: str) -> Masker:
    """A masker prepared for the ``fields`` of each of ``objects`` (one query for them all)."""
    rows = list(objects or [])
    return Masker(str(value) for row in rows for field in fields if (value := getattr(row, field, None)))


@register.filter
def masked(value: object, prepared: Masker | None = None) -> str:
    """``value`` as text, known detainees' names and A-numbers replaced (escaped like any text)."""
    if value in (None, ""):
        return ""
    return (prepared if isinstance(prepared, Masker) else Masker()).mask(str(value))

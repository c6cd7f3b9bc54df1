"""``{% load money %}``: the ``cents`` filter, for every app's templates."""

from __future__ import annotations

from django import template

from kernel.money import format_cents

register = template.Library()


@register.filter
def cents(value: int | str | None) -> str:
    """Integer cents as dollars: ``{{ 150000|cents }}`` → ``$1,500.00``; empty for no value."""
    if value in (None, ""):
        return ""
    return format_cents(int(value))

from django import template

from funds.receipts import format_cents

register = template.Library()


@register.filter
def cents(value) -> str:
    """Integer cents as dollars in templates: 150000 → "$1,500.00". No floats involved."""
    if value in (None, ""):
        return ""
    return format_cents(int(value))

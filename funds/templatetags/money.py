from django import template

register = template.Library()


@register.filter
def cents(value) -> str:
    """Integer cents as dollars: 150000 → "$1,500.00", -2500 → "-$25.00". No floats involved."""
    if value in (None, ""):
        return ""
    value = int(value)
    sign = "-" if value < 0 else ""
    dollars, rest = divmod(abs(value), 100)
    return f"{sign}${dollars:,}.{rest:02d}"

"""Report PDF markup: the page HTML of a chunk and the CSS that sizes and numbers its pages."""

from __future__ import annotations

import html

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from reports.pdf.formatting import NUMERIC_KINDS, FormattedTable
from reports.pdf.layout import PageBlock, PageGeometry

# --- HTML ------------------------------------------------------------------------------------


def geometry_css(geometry: PageGeometry, tables: list[FormattedTable], page_size: str) -> str:
    g = geometry
    rules = [
        f"@page {{ size: {page_size}{' landscape' if g.landscape else ''}; margin: {g.margin_top}pt {g.margin_side}pt {g.margin_bottom}pt; }}",
        f"html {{ font-size: {g.font_size}pt; line-height: {g.line_height}pt; }}",
        f"table.rows td {{ padding: {g.cell_pad_y}pt {g.cell_pad_x}pt; border-bottom-width: {g.rule}pt; }}",
        f"table.rows tr.totals td {{ border-top-width: {g.head_rule}pt; }}",
        f"table.rows th {{ font-size: {g.head_font_size}pt; line-height: {g.head_line_height}pt;"
        f" padding: {g.cell_pad_y}pt {g.cell_pad_x}pt; border-bottom-width: {g.head_rule}pt; }}",
        f"h2 {{ font-size: {g.heading_font_size}pt; line-height: {g.heading_line_height}pt;"
        f" margin: 0 0 {g.heading_gap_after}pt; }}",
        f"table.rows + h2 {{ margin-top: {g.heading_gap_before}pt; }}",
        f".closing {{ margin-top: {g.closing_gap}pt; }}",
        f".closing p {{ font-size: {g.note_font_size}pt; line-height: {g.note_line_height}pt;"
        f" margin: {g.note_gap}pt 0 0; }}",
    ]
    for index, table in enumerate(tables):
        total = sum(table.widths) or 1.0
        rules.extend(
            f".s{index} .c{column} {{ width: {100 * width / total:.3f}%; }}"
            for column, width in enumerate(table.widths)
        )
    return "\n".join(rules)


def numbering_css(first_page: int, total_pages: int) -> str:
    """The page counter of one chunk: its first global page number and the document's total."""
    template = _("Page %(page)s of %(total)s")
    before, _marker, after = (template % {"page": "\x00", "total": total_pages}).partition("\x00")
    return (
        f"@page :first {{ counter-reset: page {first_page}; }}\n"
        f"@page {{ @bottom-right {{ content: {_css_string(before)} counter(page) {_css_string(after)}; }} }}"
    )


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def cells_html(cells: list[str], kinds: list[str], tag: str = "td") -> str:
    escape = html.escape
    return "".join(
        f'<{tag} class="num">{escape(text)}</{tag}>' if kind in NUMERIC_KINDS else f"<{tag}>{escape(text)}</{tag}>"
        for text, kind in zip(cells, kinds, strict=True)
    )


def pages_html(
    pages: list[list[PageBlock]], tables: list[FormattedTable], closing_html: str, texts: dict[str, str]
) -> str:
    """The body of one chunk. Built with ``html.escape`` rather than a template loop: a
    10,000-row register is 100,000 cells, and the parent builds them while workers wait."""
    escape = html.escape
    out: list[str] = []
    for page in pages:
        out.append('<section class="page">')
        for block in page:
            if block.closing:
                out.append(closing_html)
                continue
            table = tables[block.section]
            if block.titled and block.continued:
                out.append(
                    f'<h2 class="continued">{escape(table.title)} <span>{escape(texts["continued"])}</span></h2>'
                )
            elif block.titled:
                out.append(f"<h2>{escape(table.title)}</h2>")
            head = "".join(
                f'<th class="c{i}{" num" if kind in NUMERIC_KINDS else ""}" scope="col">{escape(label)}</th>'
                for i, (label, kind) in enumerate(zip(table.labels, table.kinds, strict=True))
            )
            out.append(f'<table class="rows s{block.section}"><thead><tr>{head}</tr></thead><tbody>')
            for row in table.rows[block.start : block.end]:
                out.append(f"<tr>{cells_html(row, table.kinds)}</tr>")
            if not table.rows:
                out.append(
                    f'<tr class="empty"><td colspan="{len(table.kinds) or 1}">{escape(texts["empty"])}</td></tr>'
                )
            if block.totals and table.totals:
                out.append(f'<tr class="totals">{cells_html(table.totals, table.kinds)}</tr>')
            out.append("</tbody></table>")
        out.append("</section>")
    return "".join(out)


def verification_url() -> str:
    try:
        path = reverse("reports:verify")
    except NoReverseMatch:
        path = "/"
    return f"{settings.SITE_URL}{path}"

"""Report PDFs: a ``ReportData`` in, a paginated, verifiable PDF out.

Besides ``funds/receipts.py`` this is the only module that imports WeasyPrint, and only inside
functions. Rendering is pure: data in, bytes out; storing the file is ``reports.services``.

Why it is built this way. WeasyPrint lays a long table out at about two pages a second, so a
10,000-row register rendered as one ``<table>`` takes minutes. Here:

1. **We paginate, not WeasyPrint.** Every cell is formatted to a string up front, and a planner
   measures it with the shipped font's own advance widths to size the columns (landscape when
   a register is too wide for portrait) and to decide which rows go on which page. Each page
   is its own small fixed-layout table (with its header row) in a block that starts a new
   page, so WeasyPrint never lays out a page-spanning table nor sizes columns from content.
2. **Pages are rendered in parallel.** The pages are cut into chunks; a pool of processes
   renders each chunk to PDF bytes, and pypdf joins them. Workers get plain data only (a
   finished HTML string, a stylesheet path, the numbering CSS): no Django, no models, no
   translation machinery in the children.
3. **"Page X of Y" is global** because the plan says how many pages each chunk has: chunk *k*
   starts its page counter at its first global page number and prints the planned total as a
   literal. The plan is an estimate, so it is checked: every worker reports how many pages it
   really produced, and if any chunk differs (a cell wrapped more than measured), the numbers
   are recomputed from the real counts and the chunks re-rendered, until they agree. Page
   numbers are therefore always right; a wrong estimate only costs time.

Processes are started with ``spawn``, not ``fork``: the caller is a Celery worker (or a web or
test process) holding database connections, threads and GLib/Pango state, none of which are
safe to duplicate by ``fork``. A spawned worker starts clean, imports WeasyPrint once and
renders several chunks, so its start-up (about a second) is paid once per render, while the
parent is still writing HTML. Like any ``spawn`` user, the calling program's main module must
be importable without side effects (``manage.py``, ``celery`` and ``pytest`` are). A daemonic
process (a Celery *prefork* child) may not start processes at all: there the chunks are
rendered one after the other in-process (``_may_start_processes``).

The PDF never fetches anything from the network: the only resources it may load are the
shipped stylesheet and fonts under ``static/``, read from disk (``local_url_fetcher``).
"""

from __future__ import annotations

from reports.pdf.fetcher import local_url_fetcher
from reports.pdf.formatting import NUMERIC_KINDS, _format_section, _Formatter, _Table
from reports.pdf.html import _cells_html, _geometry_css, _numbering_css, _pages_html, _verification_url
from reports.pdf.layout import (
    MEASURING_FONT,
    PAGE_SIZES_PT,
    TEXT_COLUMN_CAP,
    _Block,
    _Geometry,
    _lay_out_columns,
    _Measure,
    _plan_pages,
)
from reports.pdf.render import (
    MAX_RENDER_PASSES,
    REPORT_STYLESHEET,
    RenderedPdf,
    _ChunkJob,
    _render_chunk,
    _static_roots,
    _stylesheet_path,
    render_pdf,
)

# The public API and the internals that tests and ``bench/reports.py`` reach into.
__all__ = [
    "MAX_RENDER_PASSES",
    "MEASURING_FONT",
    "NUMERIC_KINDS",
    "PAGE_SIZES_PT",
    "REPORT_STYLESHEET",
    "TEXT_COLUMN_CAP",
    "RenderedPdf",
    "_Block",
    "_ChunkJob",
    "_Formatter",
    "_Geometry",
    "_Measure",
    "_Table",
    "_cells_html",
    "_format_section",
    "_geometry_css",
    "_lay_out_columns",
    "_numbering_css",
    "_pages_html",
    "_plan_pages",
    "_render_chunk",
    "_static_roots",
    "_stylesheet_path",
    "_verification_url",
    "local_url_fetcher",
    "render_pdf",
]

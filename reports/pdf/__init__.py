"""Report PDFs: a ``ReportData`` in, a paginated, verifiable PDF out.

The modules, in the order the work flows: ``formatting`` (every cell to a string),
``layout`` (measuring, column widths, the page plan), ``html`` (the pages' markup and CSS) and
``render`` (``render_pdf``: WeasyPrint, in parallel). Besides ``funds/receipt_pdf.py`` (and the
shared fetcher in ``kernel/pdf.py``), ``render`` is the only module that imports WeasyPrint, and
only inside functions. Rendering is pure: data in, bytes out; storing the file is
``reports.services``.

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
rendered one after the other in-process (``render._may_start_processes``).

The PDF never fetches anything from the network: the only resources it may load are the
shipped stylesheets and fonts under ``static/``, read from disk (``kernel.pdf.local_url_fetcher``).
"""

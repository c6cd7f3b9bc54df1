"""Report PDF speed: one long table (what WeasyPrint does alone) against ``reports.pdf.render_pdf``.

Run:  .venv/bin/python bench/reports.py [--rows 10000] [--plain-rows N] [--workers N]

Builds a synthetic register (ten columns: dates, receipt numbers, names, funds, amounts,
counts, timestamps) and renders it twice in the same run:

- plain: one HTML document holding a single long ``<table>`` (header repeated by WeasyPrint on
  every page, columns sized by WeasyPrint), same stylesheet, fonts, running header and footer;
- chunked: ``render_pdf`` (pages planned by us, one small fixed-layout table per page, chunks
  rendered by a pool of processes, merged with pypdf).

Prints wall time, pages and pages per second of each and the speed-up, and writes the JSON to
``bench/results/reports-pdf.json``. No database is needed. ``--plain-rows`` renders the plain
document at a smaller size (when a single table of ``--rows`` would take too long); the
speed-up is then computed from the two renders at that size, and the chunked render of
``--rows`` is reported beside it.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

GIVEN = ["José", "María", "Juan", "Ana", "Luis", "Rosa", "Carlos", "Lucía", "Pedro", "Elena", "Mohamed", "Fatima"]
FAMILY = ["Hernández", "López", "García", "Martínez", "Pérez", "Ramírez", "Cruz", "Flores", "Díaz", "Reyes", "Sow"]
FUNDS = ["Bond fund", "General defense fund", "Family reunification fund"]


def synthetic_report(rows: int):
    from reports.data import Column, ReportData, Section

    rng = random.Random(20261126)
    columns = [
        Column("paid_on", "Date paid", "date"),
        Column("receipt", "Receipt", "text"),
        Column("donor", "Donor", "text"),
        Column("fund", "Fund", "text"),
        Column("amount", "Gift", "money"),
        Column("fee", "Fee covered", "money"),
        Column("refunded", "Refunded", "money"),
        Column("net", "Net", "money"),
        Column("gifts", "Gifts to date", "int"),
        Column("recorded_at", "Recorded", "datetime"),
    ]
    start = datetime(2026, 1, 1, 14, tzinfo=UTC)
    data_rows = []
    for index in range(rows):
        amount = rng.choice([500, 2500, 5000, 10000, 25000, 100000]) + rng.randrange(0, 100)
        fee = rng.choice([0, 0, amount * 29 // 1000 + 30])
        refunded = rng.choice([0] * 9 + [amount])
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}" + (f" {rng.choice(FAMILY)}" if rng.random() < 0.4 else "")
        data_rows.append(
            {
                "paid_on": date(2026, 1, 1) + timedelta(days=index * 90 // max(rows, 1)),
                "receipt": f"R2026-{index + 1:06d}",
                "donor": name,
                "fund": rng.choice(FUNDS),
                "amount": amount,
                "fee": fee,
                "refunded": -refunded,
                "net": amount + fee - refunded,
                "gifts": rng.randrange(1, 40),
                "recorded_at": start + timedelta(minutes=index * 13),
            }
        )
    totals = {key: sum(row[key] for row in data_rows) for key in ("amount", "fee", "refunded", "net")}
    return ReportData(
        kind="donation_register",
        title="Donation register",
        parameters=[("Period", "January 1, 2026 to March 31, 2026"), ("Fund", "All funds")],
        sections=[Section(title="Donations", columns=columns, rows=data_rows, totals=totals)],
        notes=["Reconciles to the ledger to the cent."],
    )


RUN = {"run_id": 4242, "generated_by": "Bench Auditor", "digest": "0" * 64}


def render_plain(data) -> tuple[bytes, int]:
    """The naive approach: the whole register as one table in one WeasyPrint document."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from kernel.pdf import local_url_fetcher, static_roots
    from reports.pdf.formatting import NUMERIC_KINDS, CellFormatter, format_section
    from reports.pdf.html import cells_html, geometry_css, verification_url
    from reports.pdf.layout import TextMeasure, lay_out_columns
    from reports.pdf.render import report_stylesheet_path

    formatter = CellFormatter()
    table = format_section(data.sections[0], formatter)
    # The same orientation as render_pdf chooses; the widths it computes are not used.
    geometry = lay_out_columns([table], settings.PDF_PAGE_SIZE, TextMeasure())
    head = "".join(
        f'<th class="{"num" if kind in NUMERIC_KINDS else ""}">{label}</th>'
        for label, kind in zip(table.labels, table.kinds, strict=True)
    )
    body = "".join(f"<tr>{cells_html(row, table.kinds)}</tr>" for row in table.rows)
    totals = f'<tr class="totals">{cells_html(table.totals, table.kinds)}</tr>'
    page_html = f'<h2>{html.escape(table.title)}</h2><table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}{totals}</tbody></table>'
    document = render_to_string(
        "reports/pdf/document.html",
        {
            "language": "en",
            "legal_name": settings.FUND_LEGAL_NAME,
            "title": data.title,
            "parameters": data.parameters,
            "generated": "Generated by Bench Auditor",
            "run_id": RUN["run_id"],
            "digest": RUN["digest"],
            "verification_url": verification_url(),
            "pages_html": mark_safe(page_html),  # noqa: S308 (escaped by cells_html)
        },
    )
    stylesheet = report_stylesheet_path()
    fetcher = local_url_fetcher([str(root) for root in static_roots()])
    fonts = FontConfiguration()
    sheets = [
        CSS(filename=str(stylesheet), font_config=fonts, url_fetcher=fetcher),
        CSS(string=geometry_css(geometry, [], settings.PDF_PAGE_SIZE), font_config=fonts, url_fetcher=fetcher),
        # WeasyPrint sizes the columns and counts the pages itself.
        CSS(
            string='table.rows { table-layout: auto; } @page { @bottom-right { content: "Page " counter(page) " of " counter(pages); } }',
            font_config=fonts,
            url_fetcher=fetcher,
        ),
    ]
    rendered = HTML(string=document, base_url=stylesheet.parent.as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=sheets, font_config=fonts
    )
    return rendered.write_pdf(), len(rendered.pages)


def render_chunked(data, workers: int | None) -> tuple[bytes, int]:
    from reports.pdf.render import render_pdf

    rendered = render_pdf(data, generated_at=datetime.now(UTC), workers=workers, **RUN)
    return rendered.content, rendered.page_count


def measure(label: str, render) -> dict:
    from pypdf import PdfReader

    start = time.perf_counter()
    content, pages = render()
    seconds = time.perf_counter() - start
    assert len(PdfReader(io.BytesIO(content)).pages) == pages
    figures = {
        "seconds": round(seconds, 2),
        "pages": pages,
        "pages_per_second": round(pages / seconds, 2),
        "bytes": len(content),
    }
    print(f"{label:>28}: {figures['seconds']:7.2f} s  {pages:4d} pages  {figures['pages_per_second']:6.2f} pages/s")
    return figures


def cpu_model() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    for line in output.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--plain-rows", type=int, default=None, help="render the plain table at this size instead")
    parser.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    args = parser.parse_args()
    plain_rows = args.plain_rows or args.rows

    import django

    django.setup()
    from django.conf import settings

    results: dict = {
        "date": date.today().isoformat(),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        },
        "page_size": settings.PDF_PAGE_SIZE,
        "workers": args.workers or os.cpu_count(),
        "rows": args.rows,
        "plain_rows": plain_rows,
    }
    print(f"{results['machine']['cpu']}, {results['machine']['cores']} cores, workers={results['workers']}")

    data = synthetic_report(args.rows)
    plain_data = data if plain_rows == args.rows else synthetic_report(plain_rows)
    results["chunked"] = measure(f"chunked, {args.rows:,} rows", lambda: render_chunked(data, args.workers))
    if plain_rows != args.rows:
        results["chunked_at_plain_rows"] = measure(
            f"chunked, {plain_rows:,} rows", lambda: render_chunked(plain_data, args.workers)
        )
    results["plain"] = measure(f"plain table, {plain_rows:,} rows", lambda: render_plain(plain_data))
    same_size = results.get("chunked_at_plain_rows", results["chunked"])
    results["speedup"] = round(results["plain"]["seconds"] / same_size["seconds"], 2)
    results["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    print(f"speed-up at {plain_rows:,} rows: {results['speedup']}x")

    out = ROOT / "bench" / "results" / "reports-pdf.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

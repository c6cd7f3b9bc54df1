"""Donation receipts and annual statements as PDF: the receipt renderer.

Besides ``reports.pdf.render`` (and the shared fetcher in ``kernel.pdf``) this is the only
module that imports WeasyPrint, and only inside functions, so that web processes that never
render a PDF do not pay for the import. Rendering is pure: data in, bytes out; numbering,
storing and e-mailing the result is ``funds.services.receipts``.

The PDF never fetches anything from the network: the only resources it may load are the
shipped stylesheets and fonts under ``static/``, read from disk (``kernel.pdf.local_url_fetcher``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from funds.models import Donation, Donor
from kernel.clock import fund_time_zone, local_date
from kernel.money import format_cents
from kernel.pdf import local_url_fetcher, static_file, static_roots

RECEIPT_STYLESHEET = "css/receipt-pdf.css"


def issuer() -> dict[str, str]:
    return {
        "legal_name": settings.FUND_LEGAL_NAME,
        "address": settings.FUND_ADDRESS,
        "tax_id": settings.FUND_TAX_ID,
    }


# --- Data shown on the documents ------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    donation_id: int
    paid_on: date
    fund_name: str
    receipt_number: str
    monthly: bool
    charged_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.charged_cents - self.refunded_cents


@dataclass(frozen=True)
class Statement:
    """A donor's gifts in one calendar year (fund time zone), as the annual statement shows them.

    Which gifts count is decided by ``funds.services.receipts.donor_statement``.
    """

    donor_name: str
    donor_email: str
    year: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def charged_cents(self) -> int:
        return sum(line.charged_cents for line in self.lines)

    @property
    def refunded_cents(self) -> int:
        return sum(line.refunded_cents for line in self.lines)

    @property
    def net_cents(self) -> int:
        return sum(line.net_cents for line in self.lines)

    def fund_totals(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.fund_name] = totals.get(line.fund_name, 0) + line.net_cents
        return sorted(totals.items())


def _issued_on() -> str:
    return date_format(local_date(timezone.now()), "DATE_FORMAT")


def receipt_context(donation: Donation) -> dict[str, Any]:
    """What a receipt says about ``donation`` (its donor and fund must be loaded or loadable)."""
    paid_local = timezone.localtime(donation.paid_at, fund_time_zone())
    donor: Donor = donation.donor
    return {
        "issuer": issuer(),
        "receipt_number": donation.receipt_number,
        # The receipt goes to the donor: it names them even for an anonymous gift, because
        # "anonymous" only keeps the name out of public listings and acknowledgements.
        "donor_name": donor.name or donor.email,
        "donor_email": donor.email,
        "paid_on": date_format(paid_local.date(), "DATE_FORMAT"),
        "fund_name": donation.fund.name,
        "gift": format_cents(donation.amount_cents),
        "fee_covered": format_cents(donation.fee_covered_cents) if donation.fee_covered_cents else "",
        "total": format_cents(donation.charged_cents),
        "monthly_payment_of": date_format(paid_local.date(), "YEAR_MONTH_FORMAT") if donation.recurring_id else "",
        "issued_on": _issued_on(),
    }


def statement_context(statement: Statement) -> dict[str, Any]:
    rows = [
        {
            "paid_on": date_format(line.paid_on, "DATE_FORMAT"),
            "fund_name": line.fund_name,
            "receipt_number": line.receipt_number,
            "kind": _("Monthly gift") if line.monthly else _("One-time gift"),
            "charged": format_cents(line.charged_cents),
            "refunded": format_cents(-line.refunded_cents) if line.refunded_cents else "",
            "net": format_cents(line.net_cents),
        }
        for line in statement.lines
    ]
    return {
        "issuer": issuer(),
        "donor_name": statement.donor_name,
        "donor_email": statement.donor_email,
        "year": statement.year,
        "rows": rows,
        "has_refunds": any(line.refunded_cents for line in statement.lines),
        "total_charged": format_cents(statement.charged_cents),
        "total_refunded": format_cents(-statement.refunded_cents),
        "total_net": format_cents(statement.net_cents),
        "fund_totals": [(name, format_cents(cents)) for name, cents in statement.fund_totals()],
        "issued_on": _issued_on(),
    }


# --- Rendering ------------------------------------------------------------------------------


def render_receipt_pdf(donation: Donation) -> bytes:
    """The receipt for one paid donation, as PDF bytes. The donation needs a receipt number."""
    if donation.paid_at is None or not donation.receipt_number:
        raise ValueError("A receipt needs a paid donation with a receipt number.")
    return _render_pdf("funds/pdf/receipt.html", receipt_context(donation))


def render_statement_pdf(statement: Statement) -> bytes:
    """A donor's annual statement as PDF bytes (an empty year says so)."""
    return _render_pdf("funds/pdf/statement.html", statement_context(statement))


def _render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    from weasyprint import CSS, HTML  # noqa: PLC0415 - WeasyPrint loads only where a PDF is rendered
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415 - WeasyPrint loads only where a PDF is rendered

    stylesheet = static_file(RECEIPT_STYLESHEET)
    html = render_to_string(template_name, {**context, "stylesheet_url": stylesheet.as_uri()})
    fetcher = local_url_fetcher(static_roots())
    fonts = FontConfiguration()
    # The page size is a deployment setting (letter in the US, A4 elsewhere).
    page = CSS(string=f"@page {{ size: {settings.PDF_PAGE_SIZE}; }}", font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, base_url=stylesheet.parent.as_uri() + "/", url_fetcher=fetcher)
    content: bytes = document.write_pdf(stylesheets=[page], font_config=fonts)
    return content

"""``invoices/<number>.pdf``: the invoice or credit note as a PDF, from an editable HTML/CSS template.

``data/templates/invoice.html`` (Jinja2) and ``invoice.css`` decide what is shown and how; finance
changes them without code (another folder with the same two files can be given). WeasyPrint lays
the page out (CSS paged media: page size, running footers, repeated table heads). Drafts carry a
DRAFT watermark on every page and DRAFT in the title. Pages are A4 by default or US Letter; the
margins and widths fit both.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from billing_lib.core.documents import date_text, document
from billing_lib.domain.money import minor_digits
from billing_lib.domain.parties import Parties
from billing_lib.domain.records import Invoice, InvoiceLine
from billing_lib.io import locations
from billing_lib.io.ubl import BillingReference, write_bytes_atomically

TEMPLATE_DIR = locations.TEMPLATE_DIR
HTML_TEMPLATE = "invoice.html"
CSS_FILE = "invoice.css"
PAPER_SIZES = {"a4": "A4", "letter": "letter"}


@jinja2.pass_context
def _money(context: Any, value: Decimal | None) -> str:
    """An amount with thousands separators and the currency's decimal places (``1,234.50``)."""
    if value is None:
        return ""
    return f"{value:,.{context['digits']}f}"


def _qty(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _date_range(line: InvoiceLine) -> str:
    return date_text(line)


@functools.cache
def _environment(folder: str, mtime_ns: int) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # text from the inputs is data: escaped, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=_money, qty=_qty, date=_date, date_range=_date_range)
    return env


@functools.cache
def _stylesheet(path: str, mtime_ns: int) -> Any:
    from weasyprint import CSS

    return CSS(filename=path)


@functools.cache
def _fonts() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _folder(template_dir: Path | None) -> Path:
    return Path(template_dir) if template_dir is not None else TEMPLATE_DIR


def render_html(
    invoice: Invoice,
    parties: Parties,
    *,
    draft: bool = False,
    paper: str = "A4",
    template_dir: Path | None = None,
    credited: BillingReference | None = None,
    css_link: bool = False,
) -> str:
    """The invoice as HTML from the template (what the PDF is made of; ``css_link`` to view it in a browser)."""
    folder = _folder(template_dir)
    html_path = folder / HTML_TEMPLATE
    env = _environment(str(folder), html_path.stat().st_mtime_ns)
    template = env.get_template(HTML_TEMPLATE)
    size = PAPER_SIZES.get(paper.casefold())
    if size is None:
        raise ValueError(f"paper must be A4 or letter, not {paper!r}")
    if credited is None and invoice.credits:
        credited = (invoice.credits, None)
    return template.render(
        doc=document(invoice, parties),
        seller=parties.seller,
        buyer=parties.buyer,
        draft=draft,
        paper=size,
        credited=credited,
        digits=minor_digits(invoice.currency),
        css_link=css_link,
    )


def invoice_pdf(
    invoice: Invoice,
    parties: Parties,
    *,
    draft: bool = False,
    paper: str = "A4",
    template_dir: Path | None = None,
    credited: BillingReference | None = None,
) -> bytes:
    """The PDF of an invoice as bytes."""
    from weasyprint import HTML

    folder = _folder(template_dir)
    html = render_html(
        invoice, parties, draft=draft, paper=paper, template_dir=template_dir, credited=credited
    )
    css_path = folder / CSS_FILE
    css = _stylesheet(str(css_path), css_path.stat().st_mtime_ns)
    document = HTML(string=html, base_url=str(folder) + "/")
    data: bytes = document.write_pdf(stylesheets=[css], font_config=_fonts())
    return data


def write_invoice_pdf(
    invoice: Invoice,
    parties: Parties,
    path: Path,
    *,
    draft: bool = False,
    paper: str = "A4",
    template_dir: Path | None = None,
    credited: BillingReference | None = None,
) -> None:
    """Write ``path`` (atomically). ``credited`` is (number, date) of the invoice a credit note credits."""
    data = invoice_pdf(
        invoice, parties, draft=draft, paper=paper, template_dir=template_dir, credited=credited
    )
    write_bytes_atomically(Path(path), data)

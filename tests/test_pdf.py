"""Invoice PDFs (WeasyPrint), read back with poppler's pdftotext, pdfinfo and pdftoppm."""

from __future__ import annotations

import os
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest
from einvoice_data import BUYERS, ONE_PO, SELLER, TWO_POS, invoice, line, page_size, pdf_text

from billing_lib.domain.parties import Parties
from billing_lib.io.pdf import invoice_pdf, write_invoice_pdf


def test_pdf_shows_the_legal_fields_lines_and_subtotals(tmp_path: Path) -> None:
    merged = line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3)
    inv = invoice("INV-202610-0007", (*TWO_POS, merged), D(21), method="customer")
    text = pdf_text(invoice_pdf(inv, Parties(SELLER, BUYERS["S"])), tmp_path)
    words = " ".join(text.split())
    for expected in (
        "Acme IT Services BV", "VAT BE0400000185", "Contoso NV", "VAT BE0400000284", "Invoice number INV-202610-0007",
        "Invoice date 2026-11-02", "Due date 2026-12-02", "Period 2026-10-01 – 2026-10-31", "POs PO-4711, PO-4712",
        "Payment terms 30 days net", "Currency EUR", "Subtotal PO PO-4711 582.50", "Subtotal PO PO-4712 220.00",
        "VAT S 21 % on 802.50 168.53 EUR", "Total 971.03 EUR", "IBAN BE71096123456769",
    ):  # fmt: skip
        assert expected in words, expected
    assert "DRAFT" not in text
    # lines in date order, a merged line shows its date range
    table = words[words.index("Unit price Amount") :]
    # per PO, lines in date order; a merged line shows its date range
    first, second = table.split("Subtotal PO PO-4711")
    assert first.index("2026-10-03 – 2026-10-28") < first.index("2026-10-12")
    assert second.index("2026-10-02") < second.index("2026-10-20")


def test_pdf_exemption_wording_and_draft_watermark(tmp_path: Path) -> None:
    inv = invoice("DRAFT-202610-0001", ONE_PO, D(0))
    data = invoice_pdf(inv, Parties(SELLER, BUYERS["AE"]), draft=True)
    words = " ".join(pdf_text(data, tmp_path).split())
    assert "DRAFT Invoice" in words
    assert "VAT AE 0 %: Reverse charge: VAT to be accounted for by the customer (VATEX-EU-AE)" in words


def test_pdf_text_from_the_inputs_is_escaped(tmp_path: Path) -> None:
    lines = (line(3, '<b>bold</b> & =HYPERLINK("x")', "PO-1", "1", "10", "10.00"),)
    words = " ".join(
        pdf_text(invoice_pdf(invoice("INV-X", lines, D(21)), Parties(SELLER, BUYERS["S"])), tmp_path).split()
    )
    assert '<b>bold</b> & =HYPERLINK("x")' in words


def test_pdf_pages_a4_and_letter(tmp_path: Path) -> None:
    many = tuple(
        line(1 + i % 28, f"Ticket {i} remote support", "PO-4711", "1", "95", "95.00") for i in range(80)
    )
    inv = invoice("INV-LONG", many, D(21))
    a4 = invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), draft=True)
    letter = invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), paper="letter", draft=True)
    assert page_size(a4, tmp_path).startswith("595.276 x 841.89")
    assert page_size(letter, tmp_path).startswith("612 x 792")
    for data in (a4, letter):
        text = pdf_text(data, tmp_path)
        pages = text.split("\f")
        assert len([p for p in pages if p.strip()]) >= 2
        # the table head repeats and every page carries DRAFT and its number
        assert all("Description" in p and "DRAFT" in p and "Page" in p for p in pages if p.strip())
        assert all(f"Ticket {i} remote support" in text for i in range(80))


def test_write_invoice_pdf_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "INV-1.pdf"
    write_invoice_pdf(invoice("INV-1", ONE_PO, D(21)), Parties(SELLER, BUYERS["S"]), path)
    assert path.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["INV-1.pdf"]


GOLDEN_PDF = Path(__file__).parent / "golden" / "invoice_pdf.txt"


def test_pdf_text_matches_the_golden_file(tmp_path: Path) -> None:
    """The whole text of a two-PO invoice as pdftotext reads it; ``UPDATE_GOLDEN=1`` rewrites the file."""
    merged = line(28, "Remote support", "PO-4711", "3.5", "95", "332.50", first=3, items=3)
    inv = invoice("INV-202610-0007", (*TWO_POS, merged), D(21), method="customer")
    text = pdf_text(invoice_pdf(inv, Parties(SELLER, BUYERS["S"])), tmp_path)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN_PDF.write_text(text, encoding="utf-8")
    assert GOLDEN_PDF.exists(), f"{GOLDEN_PDF} is missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == GOLDEN_PDF.read_text(encoding="utf-8")


@pytest.mark.parametrize(("paper", "width_mm"), [("A4", 210.0), ("letter", 215.9)])
def test_rendered_pages_keep_inside_the_margins(paper: str, width_mm: float, tmp_path: Path) -> None:
    """Long words and large amounts stay on the page: nothing is drawn in the side margins."""
    from PIL import Image

    long = (
        line(3, "Migration of " + "x" * 120, "PO-2026-000000000001", "12345.25", "81000.5", "999961277.63"),
        line(4, "Hardware " * 30, "PO-2026-000000000001", "1", "1", "1.00", kind="charge"),
    )
    inv = invoice("INV-202610-9999", long, D(21))
    path = tmp_path / "doc.pdf"
    path.write_bytes(invoice_pdf(inv, Parties(SELLER, BUYERS["S"]), paper=paper))
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    dpmm = 50 / 25.4
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        assert abs(width / dpmm - width_mm) < 2
        margin = int(10 * dpmm)  # the CSS margins are 14 mm: 10 mm either side must be blank
        for x0, x1 in ((0, margin), (width - margin, width)):
            region = image.crop((x0, 0, x1, height))
            assert region.getextrema()[0] > 240, f"ink in the margin of {page.name} ({paper})"
    words = " ".join(pdf_text(path.read_bytes(), tmp_path).split())
    assert "999,961,277.63" in words and "1,209,953,147.14 EUR" in words

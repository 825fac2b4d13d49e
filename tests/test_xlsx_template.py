"""The layout template: a restyled template is used, its problems are clear errors, its pictures are copied."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from invoice_month import invoice_set, png

from billing_lib.core.consolidate import InvoiceSet
from billing_lib.domain.errors import OutputError
from billing_lib.io import (
    invoice_files,
    xlsx_template,
)


@pytest.fixture()
def month(tmp_path: Path) -> InvoiceSet:
    return invoice_set(tmp_path / "inputs")


def test_a_restyled_template_is_used(month: InvoiceSet, tmp_path: Path) -> None:
    template = tmp_path / "ours.xlsx"
    shutil.copy(xlsx_template.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    ws = wb["Invoice"]
    ws["D7"] = "Factuurnummer"
    ws["A27"] = "Bank: Rabobank · IBAN NL91 RABO 0123 4567 89"
    ws["D1"].font = openpyxl.styles.Font(name="Georgia", size=26, color="C00000")
    ws.column_dimensions["B"].width = 60
    wb.save(template)
    path = invoice_files.write_invoices(month, tmp_path / "out", template=template)[0]
    out = openpyxl.load_workbook(path)["Invoice"]
    texts = [c.value for row in out.iter_rows() for c in row]
    assert "Factuurnummer" in texts and "Invoice number" not in texts
    assert any(isinstance(t, str) and t.startswith("Bank: Rabobank") for t in texts)
    assert out["D1"].font.name == "Georgia" and out["D1"].font.sz == 26
    assert out["D1"].font.color.rgb.endswith("C00000")
    assert out.column_dimensions["B"].width == pytest.approx(60, abs=1)


def test_template_problems_are_clear_errors(month: InvoiceSet, tmp_path: Path) -> None:
    template = tmp_path / "broken.xlsx"
    shutil.copy(xlsx_template.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    wb["Invoice"]["B3"] = "{customer_shoe_size}"
    wb.save(template)
    with pytest.raises(OutputError, match=r"cell B3: unknown field \{customer_shoe_size\}"):
        invoice_files.write_invoices(month, tmp_path / "out", template=template)
    with pytest.raises(OutputError, match="cannot read the invoice template"):
        invoice_files.write_invoices(month, tmp_path / "out", template=tmp_path / "missing.xlsx")


def test_template_pictures_are_copied(month: InvoiceSet, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(120, 40))
    template = tmp_path / "with-logo.xlsx"
    shutil.copy(xlsx_template.DEFAULT_TEMPLATE, template)
    wb = openpyxl.load_workbook(template)
    wb["Invoice"].add_image(openpyxl.drawing.image.Image(str(logo)), "A1")
    wb.save(template)
    path = invoice_files.write_invoices(month, tmp_path / "out", template=template)[0]
    with zipfile.ZipFile(path) as archive:
        assert any(n.startswith("xl/media/") for n in archive.namelist())

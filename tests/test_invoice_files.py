"""SPEC section 5: a run's invoice files: safe names, paths kept inside the folder, parallel = sequential, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoice_month import (
    INVOICE_DATE,
    invoice_set,
    snapshot,
)

from billing_lib.core.consolidate import InvoiceSet, consolidate
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import prepare_items
from billing_lib.domain.errors import OutputError
from billing_lib.domain.period import Period
from billing_lib.domain.records import Invoice
from billing_lib.io import (
    filenames,
    invoice_files,
    invoice_workbook,
    xlsx_template,
)
from billing_lib.io.inputs import load_inputs


@pytest.fixture()
def month(tmp_path: Path) -> InvoiceSet:
    return invoice_set(tmp_path / "inputs")


ODD_NAMES = [
    "Acme/Holdings", "a\\b", "..", ".", "../../etc/passwd", ".hidden", "trailing dot.", "  spaced  ", "CON",
    "con",
    "Con.txt", "COM1", "lpt9.xlsx", "NUL ", "AUX.", "x" * 300, "é" * 300, "Müller & Søn 株式会社",
    "name:with*?<>|\"chars", "tab\tand\nnewline", "nul\x00byte", "rtl\u202etxt.exe", "",
]  # fmt: skip
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


@pytest.mark.parametrize("name", ODD_NAMES)
def test_safe_filename_is_safe_everywhere(name: str, tmp_path: Path) -> None:
    safe = filenames.safe_filename(name)
    assert safe and safe not in (".", "..") and not safe.startswith(".")
    assert not set(safe) & set('/\\:*?"<>|') and all(ord(ch) >= 32 and ch != "\u202e" for ch in safe)
    assert safe == safe.strip(" .")
    assert len(safe.encode("utf-8")) <= 120
    assert safe.split(".")[0].strip().casefold() not in RESERVED
    path = filenames.output_path(tmp_path, name)
    path.write_bytes(b"x")  # the operating system accepts it, in the folder itself
    assert path.parent == tmp_path and path.exists()


def test_safe_filename_keeps_ordinary_names_and_letters() -> None:
    assert filenames.safe_filename("INV-202610-0001") == "INV-202610-0001"
    assert filenames.safe_filename("Müller & Søn 株式会社") == "Müller & Søn 株式会社"
    assert filenames.safe_filename("Acme/Holdings .. Ltd") == "Acme_Holdings .. Ltd"


def test_long_names_stay_distinct() -> None:
    a, b = filenames.safe_filename("x" * 299 + "a"), filenames.safe_filename("x" * 299 + "b")
    assert a != b and a.startswith("x" * 50)


def test_writer_refuses_paths_outside_the_folder(month: InvoiceSet, tmp_path: Path) -> None:
    folder, outside = tmp_path / "invoices", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    target = outside / "victim.xlsx"
    target.write_bytes(b"keep me")
    first = str(month.invoices["invoice_number"].iloc[0])
    (folder / f"{first}.xlsx").symlink_to(target)
    with pytest.raises(OutputError, match="outside the output folder"):
        invoice_files.write_invoices(month, folder)
    with pytest.raises(OutputError, match="outside the output folder"):
        invoice_workbook.write_invoice_workbook(month.records()[0], folder / f"{first}.xlsx")
    assert target.read_bytes() == b"keep me"
    assert filenames.output_path(folder, "../../etc/passwd").parent == folder


def test_clashing_file_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="both be written"):
        invoice_files.invoice_paths(tmp_path, ["INV/1", "INV_1"])
    with pytest.raises(OutputError, match="both be written"):
        invoice_files.invoice_paths(tmp_path, ["inv-1", "INV-1"])  # one file on Windows and macOS


def test_parallel_and_sequential_write_the_same_cells(
    sample_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = load_inputs(sample_month)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    prep, _ = check_pos(prep, reference_table(inputs.table("po_budgets")))
    s = consolidate(
        prep,
        "po_number",
        invoice_date=INVOICE_DATE,
        billing_groups=inputs.table("billing_groups"),
        billing_entities=inputs.table("billing_entities"),
    )
    monkeypatch.setattr(invoice_files, "PARALLEL_MIN_ITEMS", 10)
    parallel = invoice_files.write_invoices(s, tmp_path / "parallel", workers=2, progress=True)
    sequential = invoice_files.write_invoices(s, tmp_path / "sequential", workers=1)
    assert len(parallel) == len(s.invoices) > 2
    assert sorted(tmp_path.joinpath("parallel").iterdir()) == sorted(parallel)  # no temporary files left
    for a, b in zip(parallel, sequential, strict=True):
        assert snapshot(a, INVOICE_DATE) == snapshot(b, INVOICE_DATE)


def test_a_failure_leaves_no_files_of_the_run(
    month: InvoiceSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "invoices"
    folder.mkdir()
    (folder / "unrelated.txt").write_text("keep")
    real = invoice_files.workbook_bytes
    calls = []

    def failing(invoice: Invoice, template: xlsx_template.Template, draft: bool = False) -> bytes:
        calls.append(invoice.invoice_number)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(invoice, template, draft)

    monkeypatch.setattr(invoice_files, "workbook_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        invoice_files.write_invoices(month, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["unrelated.txt"]

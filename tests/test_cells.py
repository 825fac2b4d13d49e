"""What a cell holds that a reader's values do not show: formulas saved without a value, error values and
hidden sheets, found in real xlsx files (openpyxl writes formulas without a cached value)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl

from billing_lib.io.cells import CellProblem, hidden_sheets, problem_cells


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BillingItems"
    sheet.append(["id", "quantity", "rate", "amount", "po"])
    sheet.append(["a1", 2, 95, "=B2*C2", "PO-1"])  # a formula never calculated: no saved value
    sheet.append(["a2", 1, 95, 95, "#N/A"])  # openpyxl writes "#N/A" as an error cell (t="e")
    sheet.append(["a3", 1, 95, 95, "#REF! is text"])  # only text
    hidden = book.create_sheet("TimeEntries")
    hidden.sheet_state = "hidden"
    book.create_sheet("Notes").sheet_state = "veryHidden"
    book.create_sheet("Plain").append(["x", 1])
    book.save(path)
    return path


def test_formula_and_error_cells_with_their_places(tmp_path: Path) -> None:
    path = workbook(tmp_path / "items.xlsx")
    assert problem_cells(path, "BillingItems") == {
        (1, 3): CellProblem("formula", "=B2*C2"),
        (2, 4): CellProblem("error", "#N/A"),
    }
    assert problem_cells(path, "Plain") == {}
    assert problem_cells(path, "NoSuchSheet") == {}


def test_a_problem_says_what_it_is() -> None:
    formula, error = CellProblem("formula", "=E2*F2*0.5"), CellProblem("error", "#REF!")
    assert str(formula) == "=E2*F2*0.5" and str(error) == "#REF!"
    assert formula.sentence == "a formula saved without its value (=E2*F2*0.5): not calculated here"
    assert error.sentence == "an error value (#REF!), not a value"


def test_hidden_sheets(tmp_path: Path) -> None:
    assert hidden_sheets(workbook(tmp_path / "items.xlsx")) == {"TimeEntries", "Notes"}


def test_a_file_that_is_not_a_workbook_has_no_problems_to_show(tmp_path: Path) -> None:
    text = tmp_path / "items.xlsx"
    text.write_text("id,amount\n")
    assert hidden_sheets(text) == set() and problem_cells(text, "BillingItems") == {}
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not closed")
    assert hidden_sheets(broken) == set() and problem_cells(broken, "x") == {}
    assert hidden_sheets(tmp_path / "missing.xlsx") == set()


def test_a_formula_with_its_saved_value_is_no_problem(tmp_path: Path) -> None:
    """A workbook Excel saved keeps the formula's value: the value is read, nothing is held."""
    path = workbook(tmp_path / "items.xlsx")
    patched = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>B2*C2</f><v></v>" in data  # what openpyxl writes: an empty value
                data = data.replace(b"<f>B2*C2</f><v></v>", b"<f>B2*C2</f><v>190</v>")
            dst.writestr(item, data)
    assert problem_cells(patched, "BillingItems") == {(2, 4): CellProblem("error", "#N/A")}

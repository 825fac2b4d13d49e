"""What a spreadsheet cell holds that a reader's values do not show: formulas saved without a value,
error values (``#N/A``, ``#REF!``), and sheets that are hidden.

python-calamine gives an empty cell for both a formula Excel never calculated (a file written by a
script) and an error cell, which would let an item be priced as quantity x rate or lose its PO without
a word. ``problem_cells`` reads the sheet's XML for just those cells (SpreadsheetML: ``<f>`` with an
empty or missing ``<v>``, and cells of type ``t="e"``); the reader puts a ``CellProblem`` in their
place, which no converter accepts, so the cell is held with its location (SPEC section 2).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A cell whose value cannot be used: ``kind`` is ``formula`` (no saved value) or ``error``."""

    kind: str
    text: str  # the formula (``=E2*F2*0.5``) or the error value (``#N/A``)

    def __str__(self) -> str:
        return self.text

    @property
    def sentence(self) -> str:
        if self.kind == "formula":
            return f"a formula saved without its value ({self.text}): not calculated here"
        return f"an error value ({self.text}), not a value"


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def _sheet_paths(archive: zipfile.ZipFile) -> tuple[dict[str, str], set[str]]:
    """Sheet name -> the part holding it, and the names of hidden sheets."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    paths: dict[str, str] = {}
    hidden: set[str] = set()
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        name = sheet.get("name", "")
        part = target.get(sheet.get(f"{_REL}id"), "")
        paths[name] = part.lstrip("/") if part.startswith("/") else posixpath.normpath(f"xl/{part}")
        if sheet.get("state") in ("hidden", "veryHidden"):
            hidden.add(name)
    return paths, hidden


def hidden_sheets(path: Path) -> set[str]:
    """The names of the workbook's hidden sheets (empty when the file's structure cannot be read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _sheet_paths(archive)[1]
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return set()


def problem_cells(path: Path, sheet: str) -> dict[tuple[int, int], CellProblem]:
    """(0-based row, 0-based column) -> the problem, for every formula cell without a saved value and
    every error cell of the sheet. Only sheets with a formula or an error are scanned cell by cell."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_paths(archive)[0].get(sheet)
            if part is None:
                return {}
            data = archive.read(part)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return {}
    root = _ROOT.search(data[:4096])
    formula_mark = b"<" + ((root.group(1) or b"") if root else b"") + b"f"  # "<f", or "<x:f" if prefixed
    if formula_mark not in data and b't="e"' not in data:  # two fast scans: most sheets have neither
        return {}
    found: dict[tuple[int, int], CellProblem] = {}
    for match in _CELL.finditer(data):
        attributes, body = match.group(1), match.group(3) or b""
        kind = _TYPE.search(attributes)
        is_error = kind is not None and kind.group(1) == b"e"
        formula = _FORMULA.search(body)
        if not is_error and formula is None:
            continue
        value = _VALUE.search(body)
        saved = value.group(1) if value is not None and value.group(1) else b""
        ref = _REF.search(attributes)
        if ref is None:
            continue
        at = (int(ref.group(2)) - 1, _column_index(ref.group(1)))
        if is_error:
            found[at] = CellProblem("error", _unescape(saved) or "#N/A")
        elif not saved and (kind is None or kind.group(1) != b"str"):  # t="str" with no value: an empty text
            text = _unescape(formula.group(1) or b"") if formula is not None else ""
            found[at] = CellProblem("formula", "=" + text if text else "=(shared formula)")
    return found


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )

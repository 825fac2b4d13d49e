"""raw_sheets: reading a file's cells — CSV encodings and delimiters, unreadable files named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from exports import write_xlsx
from input_files import GOOD_ITEMS, D, records, write_csv

from billing_lib.domain.errors import InputError
from billing_lib.domain.records import ENCODING
from billing_lib.io.inputs import load_inputs


def test_excel_sep_hint_line_sets_the_delimiter(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        sep=;
        id;itemDate;companyID;extendedPrice
        1;03.10.2026;101;386,645
        2;04.10.2026;101;12,50
    """,
    )
    items = load_inputs(tmp_path).tables["billing_items"]
    assert records(items, ["item_id", "amount", "_row"]) == [
        {"item_id": "1", "amount": D("386.645"), "_row": 3},
        {"item_id": "2", "amount": D("12.50"), "_row": 4},
    ]


def test_cp1252_csv_is_read_with_an_encoding_flag(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        id,itemDate,companyID,extendedPrice
        1,2026-10-05,101,10.00
    """,
    )
    write_csv(
        tmp_path / "Companies.csv",
        """
        id,companyName
        101,Müller Präzision
    """,
        encoding="cp1252",
    )
    inputs = load_inputs(tmp_path)
    assert list(inputs.tables["companies"]["customer_name"]) == ["Müller Präzision"]
    [issue] = inputs.issues
    assert (issue.reason, issue.action, issue.file) == (ENCODING, "flagged", "Companies.csv")
    assert "Companies.csv" in issue.message and "line 2" in issue.message and "Windows-1252" in issue.message


def test_utf16_csv_with_bom_and_tabs_reads_like_utf8(tmp_path: Path) -> None:
    text = "id\titemDate\tcompanyID\tcompanyName\textendedPrice\n1\t2026-10-05\t101\tMüller\t10.00\n"
    (tmp_path / "BillingItems.csv").write_bytes(text.encode("utf-16"))  # BOM + UTF-16-LE, as Excel saves it
    assert (tmp_path / "BillingItems.csv").read_bytes()[:2] == b"\xff\xfe"
    inputs = load_inputs(tmp_path)
    assert inputs.issues == []
    assert records(inputs.tables["billing_items"], ["item_id", "customer_name", "amount"]) == [
        {"item_id": "1", "customer_name": "Müller", "amount": D("10.00")}
    ]


def test_utf8_bom_does_not_spoil_the_first_heading(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "BillingItems.csv",
        """
        id,itemDate,companyID,extendedPrice
        1,2026-10-05,101,10.00
    """,
        encoding="utf-8-sig",
    )
    assert list(load_inputs(tmp_path).tables["billing_items"]["item_id"]) == ["1"]


def test_corrupt_xlsx_names_the_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "BillingItems.csv", GOOD_ITEMS)
    (tmp_path / "Companies.xlsx").write_bytes(os.urandom(2048))
    with pytest.raises(InputError, match=r"^Companies\.xlsx: cannot be read as an Excel workbook"):
        load_inputs(tmp_path)


def test_truncated_xlsx_names_the_file(tmp_path: Path) -> None:
    data = write_xlsx(tmp_path / "x.xlsx", {"BillingItems": GOOD_ITEMS}).read_bytes()
    (tmp_path / "x.xlsx").unlink()
    (tmp_path / "billing items.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"^billing items\.xlsx: cannot be read"):
        load_inputs(tmp_path)


def test_empty_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "TimeEntries.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"^TimeEntries\.csv: the file is empty$"):
        load_inputs(tmp_path)


def test_csv_of_blank_lines_is_an_empty_sheet(tmp_path: Path) -> None:
    (tmp_path / "TimeEntries.csv").write_text("\n,,,\n\n")
    with pytest.raises(InputError, match=r"^TimeEntries\.csv: the sheet is empty \(table time_entries\)$"):
        load_inputs(tmp_path)


def test_binary_data_named_csv_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "BillingItems.csv").write_bytes(b"PK\x03\x04\x00\x00" + os.urandom(64))
    with pytest.raises(InputError, match=r"^BillingItems\.csv: is not a text CSV file"):
        load_inputs(tmp_path)

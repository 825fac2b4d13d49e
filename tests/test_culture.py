"""CSVs as PowerShell writes them, and numbers and dates that are never read on a guess.

Shapes from PowerShell's ``Export-Csv`` documentation and issues: Windows PowerShell 5.1 writes a
``#TYPE System.Management.Automation.PSCustomObject`` first line, quotes every field and writes ASCII;
PowerShell 7 converts the REST API's ISO dates to DateTime and writes them, and numbers, in the current
culture while the delimiter stays a comma without ``-UseCulture`` (PowerShell issues #13592, #19536,
#15828, #5131). Each test writes the exact bytes such an export has.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from billing_lib.domain.records import AMBIGUOUS_DATE, AMBIGUOUS_NUMBER
from billing_lib.io import culture
from billing_lib.io.inputs import load_inputs

D = Decimal
PS_TYPE = "#TYPE System.Management.Automation.PSCustomObject"


def ps_csv(path: Path, header: list[str], rows: list[list[str]], *, type_line: bool) -> Path:
    """Every field quoted, CRLF, as Export-Csv writes it."""
    lines = [PS_TYPE] if type_line else []
    lines += [",".join(f'"{c}"' for c in line) for line in [header, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii", errors="replace"))
    return path


ITEM_HEADER = ["id", "itemDate", "companyID", "quantity", "rate", "extendedPrice", "userDefinedFields"]


def test_windows_powershell_51_de_de_export_csv_reads_its_decimal_commas(tmp_path: Path) -> None:
    # ISO dates stay strings in 5.1; the second row's 1,5 and 142,5 show the file's decimal comma
    ps_csv(
        tmp_path / "BillingItems.csv",
        ITEM_HEADER,
        [
            ["80000001", "2026-10-06T00:00:00Z", "101", "3,175", "100", "386,645", "System.Object[]"],
            ["80000002", "2026-10-07T00:00:00Z", "101", "1,5", "95", "142,5", "System.Object[]"],
        ],
        type_line=True,
    )
    inputs = load_inputs(tmp_path)
    items = inputs.tables["billing_items"]
    assert items["amount"].tolist() == [D("386.645"), D("142.5")]
    assert items["quantity"].tolist() == [D("3.175"), D("1.5")]
    assert items["_row"].tolist() == [3, 4]  # the #TYPE line is row 1, the headings row 2
    assert inputs.issues == []


def test_powershell_7_culture_dates_en_us_and_de_de_are_the_same_day(tmp_path: Path) -> None:
    en = tmp_path / "en"
    de = tmp_path / "de"
    en.mkdir()
    de.mkdir()
    ps_csv(en / "BillingItems.csv", ITEM_HEADER, [
        ["1", "10/1/2026 12:00:00 AM", "101", "3.175", "100", "386.645", "System.Object[]"],
        ["2", "10/6/2026 12:00:00 AM", "101", "2", "95", "190", "System.Object[]"],
    ], type_line=False)  # fmt: skip
    ps_csv(de / "BillingItems.csv", ITEM_HEADER, [
        ["1", "01.10.2026 00:00:00", "101", "3,175", "100", "386,645", "System.Object[]"],
        ["2", "06.10.2026 00:00:00", "101", "2", "95", "190", "System.Object[]"],
    ], type_line=False)  # fmt: skip
    for folder in (en, de):
        inputs = load_inputs(folder)
        items = inputs.tables["billing_items"]
        # 10/6 is 6 October: AM/PM is en-US's month-first form; the dotted form is day-first
        assert items["item_date"].dt.date.tolist() == [dt.date(2026, 10, 1), dt.date(2026, 10, 6)]
        # de-DE: nothing but 3,175 and 386,645 in the numbers, and the dotted dates say decimal comma
        assert items["amount"].tolist() == [D("386.645"), D("190")]
        assert [i.reason for i in inputs.issues] == []


def test_a_number_nothing_settles_is_held_with_file_row_column_and_value(tmp_path: Path) -> None:
    # 3.175 x 100 is neither 386.645 nor 386645 x ... : the row does not tell, and nothing else does
    ps_csv(tmp_path / "BillingItems.csv", ITEM_HEADER, [
        ["1", "2026-10-06T00:00:00Z", "101", "3,175", "100", "386,645", "System.Object[]"],
        ["2", "2026-10-07T00:00:00Z", "101", "2", "95", "190", "System.Object[]"],
    ], type_line=True)  # fmt: skip
    inputs = load_inputs(tmp_path)
    found = sorted((i.reason, i.action, i.file, i.row, i.column, i.value) for i in inputs.issues)
    assert found == [
        (AMBIGUOUS_NUMBER, "held", "BillingItems.csv", 3, "extendedPrice", "386,645"),
        (AMBIGUOUS_NUMBER, "held", "BillingItems.csv", 3, "quantity", "3,175"),
    ]
    items = inputs.tables["billing_items"]
    assert items["_bad"].tolist() == [True, False]
    assert items["amount"].tolist() == [None, D("190")]


def test_quantity_times_rate_settles_the_decimal_mark(tmp_path: Path) -> None:
    # 1,250 h x 80 = 100 only with a decimal comma (1250 x 80 is 100000): the file reads 1,250 as 1.25
    ps_csv(tmp_path / "TicketCharges.csv",
           ["id", "datePurchased", "companyID", "unitQuantity", "unitPrice", "billableAmount"], [
        ["1", "2026-10-06T00:00:00Z", "101", "1,250", "80", "100"],
        ["2", "2026-10-06T00:00:00Z", "101", "2", "386,645", "773,29"],
    ], type_line=True)  # fmt: skip
    inputs = load_inputs(tmp_path)
    charges = inputs.tables["charges"]
    assert charges["quantity"].tolist() == [D("1.250"), D("2")]
    assert charges["rate"].tolist() == [D("80"), D("386.645")]
    assert inputs.issues == []


def test_a_day_month_order_nothing_settles_is_held(tmp_path: Path) -> None:
    (tmp_path / "BillingItems.csv").write_text(
        "id,itemDate,companyID,extendedPrice\n1,03/10/2026,101,10.00\n2,07/07/2026,101,10.00\n"
    )
    inputs = load_inputs(tmp_path)
    [issue] = inputs.issues
    assert (issue.reason, issue.row, issue.column, issue.value) == (
        AMBIGUOUS_DATE,
        2,
        "itemDate",
        "03/10/2026",
    )
    # 07/07 reads the same either way
    assert inputs.tables["billing_items"]["item_date"].dt.date.tolist()[1] == dt.date(2026, 7, 7)


@pytest.mark.parametrize(
    ("cells", "first"),
    [
        (["03/10/2026", "25/10/2026"], dt.date(2026, 10, 3)),  # a day above 12 in the column: day first
        (["10/03/2026", "10/25/2026"], dt.date(2026, 10, 3)),  # a month-first column
        (["10/3/2026 12:00:00 AM"], dt.date(2026, 10, 3)),  # en-US's AM/PM form
        (["03.10.2026 00:00:00"], dt.date(2026, 10, 3)),  # de-DE's dotted form
    ],
)
def test_a_date_column_is_read_one_way_throughout(cells: list[str], first: dt.date) -> None:
    read = culture.dates(pd.Series(cells, dtype=object))
    assert not read.ambiguous.any() and not read.bad.any()
    assert read.values.dt.date.tolist()[0] == first


def test_the_file_date_order_comes_from_any_date_column_and_none_tells_here(tmp_path: Path) -> None:
    (tmp_path / "TicketCharges.csv").write_text(
        "id,datePurchased,companyID,billableAmount,dueDate\n1,03/10/2026,101,10.00,\n"
        "2,04/10/2026,101,10.00,\n"
    )
    # no column of this file tells; a column that tells in the same file settles the others
    assert culture.date_order({"a": pd.Series(["03/10/2026"]), "b": pd.Series(["25/10/2026"])}) is True
    assert [i.reason for i in load_inputs(tmp_path).issues] == [AMBIGUOUS_DATE, AMBIGUOUS_DATE]

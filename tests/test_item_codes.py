"""core.item_codes: a text column as integer codes in the order its values sort, combinations of
columns, the month's item order, one PO spelling per PO, and codes kept per prepared month."""

from __future__ import annotations

import io
import textwrap
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_lib.core.item_codes import (
    Codes,
    ItemCodes,
    combined,
    month_rank,
    one_spelling_per_po,
    price_text,
    sorted_codes,
)


def frame(text: str) -> pd.DataFrame:
    table = pd.read_csv(io.StringIO(textwrap.dedent(text).strip()), dtype="str", keep_default_na=False)
    if "item_date" in table:
        table["item_date"] = pd.to_datetime(table["item_date"].replace("", None))
    return table


def test_codes_follow_the_text_order_and_a_missing_value_comes_last() -> None:
    found = sorted_codes(pd.Series(["b", None, "a", "B10", "B9", "b"], dtype="str"))
    assert found.values.tolist()[:4] == ["B10", "B9", "a", "b"]  # as text sorts: "B10" < "B9" < "a"
    assert pd.isna(found.values[-1])
    assert found.codes.tolist() == [3, 4, 2, 0, 1, 3]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.text("ab|", max_size=3), st.text("xy", max_size=2), st.integers(0, 3)), min_size=1)
)
def test_combined_codes_order_rows_as_the_tuples_of_their_values_sort(rows) -> None:
    columns = list(zip(*rows, strict=True))
    parts = [
        sorted_codes(pd.Series(list(c), dtype="str" if i < 2 else "int64")) for i, c in enumerate(columns)
    ]
    code = combined(*parts).codes
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            assert (code[i] < code[j]) == (a < b) and (code[i] == code[j]) == (a == b)
    assert sorted(set(code.tolist())) == list(range(len(set(rows))))  # numbered 0, 1, 2, ... without gaps


def test_combined_codes_stay_inside_int64_with_many_wide_columns() -> None:
    wide = Codes(np.array([0, 2**40 - 1, 5]), range(2**40))  # type: ignore[arg-type]  # 2**40 values, none stored
    code = combined(wide, wide, wide).codes
    assert code.tolist() == [0, 2, 1]


def test_the_month_order_is_date_table_id_as_text_ties_in_the_months_order_and_no_date_last() -> None:
    items = frame("""
        item_date,source_table,item_id
        2026-10-05,time_entries,9
        2026-10-05,charges,10
        ,charges,1
        2026-10-05,charges,9
        2026-10-05,charges,10
    """)
    assert month_rank(items).tolist() == [3, 0, 4, 2, 1]  # "10" < "9"; the two 10s keep their order


def test_a_price_is_its_text_as_written() -> None:
    assert [price_text(v) for v in (Decimal("95"), Decimal("95.00"), None, float("nan"))] == [
        "95",
        "95.00",
        "",
        "",
    ]


def test_a_po_missing_from_the_table_takes_the_spelling_most_of_its_items_use() -> None:
    items = frame("""
        po_number,po_key
        po-7,PO-7
        PO-7,PO-7
        PO-7,PO-7
        ,
        Po-8,PO-8
        PO-8,PO-8
    """)
    assert one_spelling_per_po(items).tolist() == ["PO-7", "PO-7", "PO-7", "", "PO-8", "PO-8"]  # tie: "PO-8"


def test_item_codes_are_worked_out_once_and_read_a_missing_text_as_empty() -> None:
    items = frame("""
        item_date,source_table,item_id,po_number,po_key,kind,billing_code_name,unit_price,resource_id
        2026-10-02,charges,2,PO-1,PO-1,charge,Dock,189,R2
        2026-10-01,charges,1,,,charge,Dock,189.00,
    """).assign(unit_price=[Decimal("189"), Decimal("189.00")])
    items.loc[1, "resource_id"] = None
    codes = ItemCodes(items)
    assert codes.rank.tolist() == [1, 0]
    assert codes.column("resource_id") is codes.column("resource_id")  # kept
    assert codes.column("resource_id").values.tolist() == ["", "R2"]
    assert codes.present("resource_id").tolist() == [True, False]
    assert codes.has_missing("resource_id") and not codes.has_missing("kind")
    assert codes.line.codes[0] != codes.line.codes[1]  # another PO and another price as written
    assert codes.po.values.tolist() == ["", "PO-1"]

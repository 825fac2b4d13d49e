"""PO checks that guard the budget's currency (po.check_pos, po.po_currencies)."""

import io
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd

from billing_lib.core.po import (
    check_missing_po,
    check_po_currency,
    check_po_customer,
    check_po_dates,
    check_pos,
    check_unknown_po,
    po_currencies,
    reference_table,
    with_item_currencies,
)
from billing_lib.core.rules import prepare_items
from billing_lib.domain.period import Period
from billing_lib.io.inputs import load_inputs
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse


def write(folder: Path, **tables: str) -> Path:
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def test_an_item_in_another_currency_than_its_po_is_held_and_the_run_completes(tmp_path):
    folder = write(
        tmp_path,
        Companies="""
            id,companyName,currency
            101,Alpha,EUR
        """,
        BillingItems="""
            id,itemDate,companyID,extendedPrice,purchaseOrderNumber,currencyCode
            1,2026-10-02,101,100.00,PO-1,EUR
            2,2026-10-03,101,40.00,PO-1,USD
        """,
        po_reference="""
            PO Number,Customer ID,Authorised Amount,Currency
            PO-1,101,1000,EUR
        """,
    )
    analysis = analyse(RunOptions(inputs=folder, period="2026-10", register=tmp_path / "none.sqlite"))
    assert analysis.prep.held[["item_id", "reason"]].values.tolist() == [["2", "po_currency_mismatch"]]
    held = [i for i in analysis.issues if i.reason == "po_currency_mismatch"]
    assert "USD" in held[0].message and "EUR" in held[0].message
    row = analysis.burndown.set_index("po_number").loc["PO-1"]
    assert (row["currency"], int(row["this_period_minor"])) == ("EUR", 10000)


def test_a_reference_row_without_currency_counts_its_budget_in_the_items_currency(tmp_path):
    folder = write(
        tmp_path,
        Companies="""
            id,companyName,currency
            201,Nippon,JPY
        """,
        BillingItems="""
            id,itemDate,companyID,extendedPrice,purchaseOrderNumber
            1,2026-10-02,201,900,PO-J
            2,2026-10-03,201,200,PO-J
        """,
        po_reference="""
            PO Number,Customer ID,Authorised Amount
            PO-J,201,1000
        """,
    )
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    ref = reference_table(inputs.table("po_budgets"))
    prep, ref = check_pos(prep, ref)
    # 1000 yen is 1000 minor units, not 100000 (EUR cents): the second item takes it over budget
    assert (ref.at["po-j", "currency"], int(ref.at["po-j", "authorised_minor"])) == ("JPY", 1000)
    flagged = [i.item_id for i in prep.issues if i.reason == "over_budget"]
    assert flagged == ["2"]


# --- the PO checks as functions of frames (no files) --------------------------------------------------


def frame(text: str) -> pd.DataFrame:
    out = pd.read_csv(io.StringIO(textwrap.dedent(text).strip()), dtype=str, keep_default_na=False)
    if "_row" in out:
        out["_row"] = out["_row"].astype(int)
    if "amount_minor" in out:
        out["amount_minor"] = out["amount_minor"].astype("int64")
    if "item_date" in out:
        out["item_date"] = pd.to_datetime(out["item_date"])
    return out


ITEMS = """
    source_table,item_id,_file,_sheet,_row,customer_id,currency,po_key,po_number,item_date,amount_minor
    charges,1,c.csv,,2,101,EUR,po-1,PO-1,2026-10-02,60000
    charges,2,c.csv,,3,101,USD,po-1,PO-1,2026-10-03,1000
    charges,3,c.csv,,4,102,EUR,po-1,PO-1,2026-10-04,50000
    charges,4,c.csv,,5,101,EUR,po-9,PO-9,2026-10-05,100
    charges,5,c.csv,,6,101,EUR,,,2026-10-06,100
    charges,6,c.csv,,7,101,EUR,po-2,PO-2,2026-12-01,100
"""


def reference(**rows: tuple[str, str, str, int, str, str]) -> pd.DataFrame:
    """po_key -> (po_number, customer_id, currency, authorised_minor, valid_from, valid_to)."""
    ref = pd.DataFrame.from_dict(
        rows, orient="index",
        columns=["po_number", "customer_id", "currency", "authorised_minor", "valid_from", "valid_to"],
    )  # fmt: skip
    ref["authorised_amount"] = ref["authorised_minor"].map(lambda m: Decimal(m) / 100)
    for column in ("valid_from", "valid_to"):
        ref[column] = pd.to_datetime(ref[column].replace("", None))
    return ref.rename_axis("po_key")


REF = reference(
    **{
        "po-1": ("PO-1", "101", "EUR", 100000, "", ""),
        "po-2": ("PO-2", "", "", 500, "2026-01-01", "2026-11-30"),
    }
)


def test_check_po_currency_holds_an_item_in_another_currency_than_its_po() -> None:
    items = frame(ITEMS)
    found = check_po_currency(items, po_currencies(items, REF))
    assert found.mask.tolist() == [False, True, False, False, False, False]
    (issue,) = found.issues(items[found.mask])
    assert issue.message == "c.csv, row 3: the item is in USD but PO PO-1 is in EUR"


def test_check_unknown_po_flags_without_holding() -> None:
    items = frame(ITEMS)
    found = check_unknown_po(items, REF)
    assert not found.holds and found.mask.tolist() == [False, False, False, True, False, False]


def test_check_po_customer_holds_a_po_of_another_customer() -> None:
    items = frame(ITEMS)
    found = check_po_customer(items, REF)
    assert found.mask.tolist() == [False, False, True, False, False, False]
    assert found.issues(items[found.mask])[0].text == "PO PO-1 belongs to customer 101, not 102"


def test_check_po_dates_flags_an_item_outside_the_validity() -> None:
    items = frame(ITEMS)
    found = check_po_dates(items, REF)
    assert found.mask.tolist() == [False, False, False, False, False, True]
    assert found.issues(items[found.mask])[0].text == "PO PO-2 is not valid on 2026-12-01"


def test_check_missing_po_only_for_customers_that_require_one() -> None:
    items = frame(ITEMS)
    companies = pd.DataFrame({"customer_id": ["101", "102"], "requires_po": [True, "yes"]})  # "yes" unread
    found = check_missing_po(items, companies)
    assert found.mask.tolist() == [False, False, False, False, True, False]


def test_with_item_currencies_returns_a_new_table_and_leaves_its_input_alone() -> None:
    items = frame(ITEMS)
    before = REF.copy()
    filled = with_item_currencies(REF, items)
    assert filled.at["po-2", "currency"] == "EUR"
    pd.testing.assert_frame_equal(REF, before)
    assert po_currencies(items, filled).to_dict() == {"po-1": "EUR", "po-2": "EUR", "po-9": "EUR"}


def test_check_pos_returns_a_new_month_and_leaves_the_one_given_alone(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        BillingItems="""
            id,itemDate,companyID,extendedPrice,purchaseOrderNumber
            1,2026-10-02,101,600.00,po-1
            2,2026-10-03,101,600.00,PO-1
        """,
        po_reference="""
            PO Number,Customer ID,Authorised Amount,Currency
            PO-1,101,1000,EUR
        """,
    )
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, Period.parse("2026-10"))
    items_before, issues_before = prep.items.copy(), list(prep.issues)
    checked, _ = check_pos(prep, reference_table(inputs.table("po_budgets")), over_budget_policy="hold")
    pd.testing.assert_frame_equal(prep.items, items_before)
    assert prep.issues == issues_before and prep.held.empty
    assert checked.items["po_number"].tolist() == ["PO-1"]  # the reference table's spelling
    assert checked.held[["item_id", "reason"]].values.tolist() == [["2", "over_budget"]]

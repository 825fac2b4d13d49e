"""PO checks that guard the budget's currency (po.check_pos, po.po_currencies)."""

import textwrap
from pathlib import Path

from billing_lib.core.po import check_pos, reference_table
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
    check_pos(prep, ref)
    # 1000 yen is 1000 minor units, not 100000 (EUR cents): the second item takes it over budget
    assert (ref.at["po-j", "currency"], int(ref.at["po-j", "authorised_minor"])) == ("JPY", 1000)
    flagged = [i.item_id for i in prep.issues if i.reason == "over_budget"]
    assert flagged == ["2"]

"""PO coverage on the PO tracking month (``po_month``): summary, per customer, per charge category,
PO fields across Autotask's four objects, and the recommendations.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd

from billing_lib.core import coverage


def test_coverage_summary_counts_every_billable_record_held_ones_too(tracking):
    c = tracking.coverage.summary
    # 13 records (b1 and z1 held); with a PO: a1 a2 c1 c2 t1 p1 b2 z1
    assert (c.records, c.with_po, c.without_po, c.pos) == (13, 8, 5, 5)
    assert c.percent == Decimal("61.54")  # 8 / 13
    (eur,) = c.amounts
    assert (eur.currency, eur.billable_minor, eur.with_po_minor, eur.without_po_minor) == (
        "EUR",
        241000,
        179000,
        62000,
    )
    assert eur.percent == Decimal("74.27")  # 1790.00 / 2410.00


def test_coverage_per_customer_biggest_gap_first(tracking):
    got = [
        (
            r.customer_id,
            r.records,
            r.with_po,
            r.percent,
            r.pos,
            r.amount_minor,
            r.without_po_minor,
            r.amount_percent,
        )
        for r in tracking.coverage.by_customer.itertuples()
    ]
    assert got == [
        ("103", 3, 1, Decimal("33.33"), 1, 37000, 30000, Decimal("18.92")),
        ("101", 7, 6, Decimal("85.71"), 4, 180000, 20000, Decimal("88.89")),
        ("102", 2, 1, Decimal("50.00"), 1, 20000, 8000, Decimal("60.00")),
        ("104", 1, 0, Decimal("0.00"), 0, 4000, 4000, Decimal("0.00")),
    ]


def test_coverage_per_charge_category(tracking):
    got = [
        (r.billing_code, r.records, r.with_po, r.percent, r.pos, r.amount_minor, r.without_po_minor)
        for r in tracking.coverage.by_category.itertuples()
    ]
    assert got == [
        ("Hardware", 6, 3, Decimal("50.00"), 2, 92000, 30000),
        ("Remote support", 3, 2, Decimal("66.67"), 1, 114000, 24000),
        ("Consulting", 4, 3, Decimal("75.00"), 3, 35000, 8000),
    ]


def test_po_fields_across_the_four_objects(tracking):
    fields = tracking.coverage.fields.set_index("object")
    got = {
        name: (r.tables, r.records, r.with_po, r.percent, r.records_using) for name, r in fields.iterrows()
    }
    assert got == {
        "Items and charges": ("billing_items", 13, 4, Decimal("30.77"), 4),  # own PO: a1 a2 b2 z1
        "Contracts": ("contracts", 2, 1, Decimal("50.00"), 2),  # c1 c2 take PO-C from C1
        "Projects": ("projects", 3, 1, Decimal("33.33"), 1),  # p1
        "Tasks and tickets": ("tasks; tickets", 4, 1, Decimal("25.00"), 1),  # t1
    }
    assert fields.loc["Items and charges", "internal_po"] == 1 and isinstance(
        fields.loc["Items and charges", "internal_po"], int
    )
    assert fields.loc["Contracts", "internal_po"] is None


def test_recommendations_name_who_to_mark_requires_po(tracking):
    rec = tracking.coverage.recommendations
    assert list(rec["customer_id"]) == ["103", "101", "102", "104"]
    assert list(rec["without_po_minor"]) == [30000, 20000, 8000, 4000]
    assert list(rec["mark_requires_po"]) == [True, True, False, False]
    assert list(rec["requires_po"]) == [False, False, True, False]
    advice = dict(zip(rec["customer_id"], rec["advice"], strict=True))
    assert (
        advice["103"]
        == "mark requires-PO: it works with POs (1 of 3 records carry a PO, 1 PO on record) yet is billed without"
    )
    assert "6 of 7 records carry a PO, 4 POs on record" in advice["101"]
    assert advice["102"].startswith("already requires a PO")
    assert advice["104"].startswith("ask whether it needs a PO")


# --- on charge records from CSV text, without reading any file ----------------------------------------

# charge records (coverage.RECORD_COLUMNS that the figures use); po_key blank: no PO
RECORDS = """\
customer_id,customer_name,billing_code,currency,amount_minor,po_key
101,Acme Ltd,Labour,EUR,10000,po-a
101,Acme Ltd,Labour,EUR,5000,po-a
101,Acme Ltd,Hardware,EUR,-2000,
102,Beta GmbH,Labour,EUR,3000,
102,Beta GmbH,Labour,GBP,4000,po-g
103,Cobalt BV,Hardware,EUR,0,po-z
"""


def records_frame(text: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return frame.assign(amount_minor=frame["amount_minor"].astype("int64"))


def test_summary_counts_records_pos_and_amounts_per_currency() -> None:
    c = coverage.summary(records_frame(RECORDS))
    assert (c.records, c.with_po, c.without_po, c.percent, c.pos) == (6, 4, 2, Decimal("66.67"), 3)
    eur, gbp = c.amounts
    # a credit counts by its size in the share: 15000 of |10000| + |5000| + |-2000| + |3000| + |0| = 20000
    assert (eur.currency, eur.billable_minor, eur.with_po_minor, eur.without_po_minor, eur.percent) == (
        "EUR", 16000, 15000, 1000, Decimal("75.00"),
    )  # fmt: skip
    assert (gbp.billable_minor, gbp.with_po_minor, gbp.percent) == (4000, 4000, Decimal("100.00"))
    assert c.as_dict()["amounts"]["GBP"] == {  # type: ignore[index]
        "billable_minor": 4000, "with_po_minor": 4000, "without_po_minor": 0, "percent": "100.00",
    }  # fmt: skip


def test_nothing_to_cover() -> None:
    c = coverage.summary(records_frame(RECORDS).iloc[0:0])
    assert (c.records, c.percent, c.amounts) == (0, None, ())
    assert c.as_dict()["percent"] == ""
    assert coverage.coverage_by(records_frame(RECORDS).iloc[0:0]).empty


def test_coverage_by_customer_and_currency_biggest_exposure_first() -> None:
    got = coverage.coverage_by(records_frame(RECORDS))
    assert list(got.columns) == [*coverage.CUSTOMER, *coverage.COVERAGE_COLUMNS]
    rows = [(r.customer_id, r.currency, r.records, r.with_po, r.without_po_minor, r.percent, r.amount_percent)
            for r in got.itertuples()]  # fmt: skip
    assert rows == [
        ("102", "EUR", 1, 0, 3000, Decimal("0.00"), Decimal("0.00")),
        ("102", "GBP", 1, 1, 0, Decimal("100.00"), Decimal("100.00")),
        ("103", "EUR", 1, 1, 0, Decimal("100.00"), None),  # nothing billed: no share of nothing
        ("101", "EUR", 3, 2, -2000, Decimal("66.67"), Decimal("88.24")),  # a credit without a PO: last
    ]
    by_code = coverage.coverage_by(records_frame(RECORDS), coverage.CATEGORY)
    assert by_code.set_index(["billing_code", "currency"])["pos"].to_dict() == {
        ("Labour", "EUR"): 1, ("Labour", "GBP"): 1, ("Hardware", "EUR"): 1,
    }  # fmt: skip

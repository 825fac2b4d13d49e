"""PO burn-down, exposure, charges and hours per PO, worked by hand on a tiny month (period 2026-10)."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_lib.core import burndown as bdm
from billing_lib.core.po import check_pos, reference_table
from billing_lib.core.rules import ITEM_COLUMNS, Prepared, prepare_items
from billing_lib.domain.errors import CurrencyMismatch
from billing_lib.domain.period import Period
from billing_lib.io import burndown_csv
from billing_lib.io.inputs import load_inputs

PERIOD = Period.parse("2026-10")

COMPANIES = """\
id,companyName,requiresPO
101,Acme Ltd,no
102,Beta GmbH,no
103,Gamma plc,yes
"""
BILLING_CODES = """\
id,name,unitPrice
1,Remote support,100
2,Hardware,
"""
TICKETS = """\
id,companyID,title,purchaseOrderNumber
T1,101,Server migration,PO-HRS
"""
TIME_ENTRIES = """\
id,dateWorked,ticketID,billingCodeID,hoursToBill
te1,2026-10-08,T1,1,2.5
te2,2026-10-09,T1,1,1.25
"""
PO_REFERENCE = """\
PO Number,Customer ID,Authorised Amount,Authorised Hours,Valid From,Valid To
PO-A,101,1000.00,,2026-01-01,2026-12-31
PO-B,101,2000.00,,2026-01-01,2026-12-31
PO-OLD,101,500.00,,2026-01-01,2026-09-30
PO-C,102,800.00,,2026-01-01,2026-12-31
PO-HRS,101,5000.00,40,2026-01-01,2026-12-31
PO-IDLE,102,300.00,,2026-01-01,2026-12-31
"""
# a1..a3 take PO-A through 50 %, 85 % (warning) and 105 % (exceeded: a3 gets the over_budget flag)
BILLING_ITEMS = """\
id,itemDate,companyID,contractID,quantity,rate,extendedPrice,purchaseOrderNumber,invoiceID,nonBillable,timeEntryID,billingCodeID
a1,2026-10-03,101,,1,,500.00,PO-A,,,,
a2,2026-10-10,101,,1,,350.00,po-a,,,,
a3,2026-10-20,101,,1,,200.00,PO-A ,,,,
b1,2026-10-15,101,,1,,300.00,PO-B,,,,
o1,2026-10-05,101,,1,,100.00,PO-OLD,,,,
c1,2026-10-06,101,,1,,90.00,PO-C,,,,
c2,2026-10-07,102,,1,,100.00,PO-C,,,,
z1,2026-10-12,101,,1,,60.00,PO-ZZZ,,,,
n1,2026-10-14,101,,1,,40.00,,,,,2
n2,2026-10-16,101,,1,,10.00,,,,,
g1,2026-10-18,103,,1,,70.00,,,,,2
"""
# PO-B was invoiced 1200.00 before: 800.00 dated in September, 400.00 (4 hours) without a date
PREVIOUSLY = pd.DataFrame(
    {
        "po_key": ["po-b", "po-b"],
        "po_number": ["PO-B", "PO-B"],
        "customer_id": ["101", "101"],
        "currency": ["EUR", "EUR"],
        "amount_minor": [80000, 40000],
        "quantity": ["1", "4"],
        "kind": ["charge", "labour"],
        "item_date": ["2026-09-20", None],
    }
)


def write_month(folder: Path, **tables: str) -> Path:
    """Each keyword is a file name (``BillingItems`` -> ``BillingItems.csv``) and its CSV text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def run(
    folder: Path, previously: dict[str, int] | None = None, policy: str = "flag"
) -> tuple[Prepared, pd.DataFrame]:
    inputs = load_inputs(folder)
    prep = prepare_items(inputs, PERIOD)
    ref = reference_table(inputs.table("po_budgets"))
    prep, ref = check_pos(prep, ref, previously_invoiced=previously or {}, over_budget_policy=policy)
    return prep, ref


@pytest.fixture()
def month(tmp_path: Path) -> tuple[Prepared, pd.DataFrame, pd.DataFrame]:
    folder = write_month(
        tmp_path / "in",
        BillingItems=BILLING_ITEMS,
        TimeEntries=TIME_ENTRIES,
        Tickets=TICKETS,
        Companies=COMPANIES,
        BillingCodes=BILLING_CODES,
        po_reference=PO_REFERENCE,
    )
    prep, ref = run(folder, previously={"po-b": 120000})
    return prep, ref, bdm.burndown(prep.items, ref, PERIOD, PREVIOUSLY)


def po_row(bd: pd.DataFrame, po_number: str) -> pd.Series:
    rows = bd[bd["po_number"] == po_number]
    assert len(rows) == 1, f"{po_number}: {len(rows)} rows"
    return rows.iloc[0]


def issue_ids(prep: Prepared, reason: str) -> set[str]:
    return {i.item_id for i in prep.issues if i.reason == reason}


def test_every_po_of_the_reference_table_and_the_items_has_one_row(month):
    _, _, bd = month
    assert sorted(bd["po_number"]) == ["PO-A", "PO-B", "PO-C", "PO-HRS", "PO-IDLE", "PO-OLD", "PO-ZZZ"]
    assert list(burndown_csv.to_csv_frame(bd).columns[:11]) == [
        "po_number", "customer_id", "currency", "authorised_amount", "previously_invoiced", "this_period",
        "consumed", "remaining", "percent_used", "status", "projected_exhaustion_date",
    ]  # fmt: skip


def test_po_crossing_80_and_100_percent_inside_the_period(month):
    prep, _, bd = month
    a = po_row(bd, "PO-A")  # 500 + 350 + 200 of 1000
    assert (a["previously_invoiced_minor"], a["this_period_minor"], a["consumed_minor"]) == (
        0,
        105000,
        105000,
    )
    assert a["remaining_minor"] == -5000
    assert a["percent_used"] == Decimal("105.00")
    assert a["status"] == "exceeded"
    # a2 takes it to 85 % (no flag), a3 past 100 %: only a3 is flagged, and still invoiced
    assert issue_ids(prep, "over_budget") == {"a3"}
    assert {"a1", "a2", "a3"} <= set(prep.items["item_id"])
    # already exhausted: the projection is the day the cumulative amount reached the budget
    assert a["projected_exhaustion_date"] == pd.Timestamp("2026-10-20")
    csv = burndown_csv.to_csv_frame(bd).set_index("po_number").loc["PO-A"]
    assert (csv["authorised_amount"], csv["consumed"], csv["remaining"], csv["percent_used"]) == (
        "1000.00", "1050.00", "-50.00", "105.00",
    )  # fmt: skip
    assert csv["projected_exhaustion_date"] == "2026-10-20"


def test_earlier_periods_add_to_this_period(month):
    _, _, bd = month
    b = po_row(bd, "PO-B")
    assert b["previously_invoiced_minor"] == 120000
    assert b["this_period_minor"] == 30000
    assert b["consumed_minor"] == b["previously_invoiced_minor"] + b["this_period_minor"] == 150000
    assert b["remaining_minor"] == 50000
    assert b["percent_used"] == Decimal("75.00")
    assert b["status"] == "ok"
    assert b["hours_consumed"] == Decimal("4")  # the earlier labour
    row = burndown_csv.to_csv_frame(bd).set_index("po_number").loc["PO-B"]
    assert (row["previously_invoiced"], row["this_period"], row["consumed"]) == (
        "1200.00",
        "300.00",
        "1500.00",
    )


def test_projected_exhaustion_from_the_last_30_days(month):
    _, _, bd = month
    # PO-B burned 300.00 in the 30 days up to 2026-10-31 (the September 800.00 is older):
    # 10.00 a day, 500.00 left -> 50 days after 2026-10-31 -> 2026-12-20
    assert po_row(bd, "PO-B")["projected_exhaustion_date"] == pd.Timestamp("2026-12-20")
    # nothing consumed: no projection
    assert pd.isna(po_row(bd, "PO-IDLE")["projected_exhaustion_date"])
    assert (
        burndown_csv.to_csv_frame(bd).set_index("po_number").loc["PO-IDLE", "projected_exhaustion_date"] == ""
    )


def test_projection_rounds_up_to_the_day_the_budget_runs_out():
    series = pd.DataFrame({"date": pd.to_datetime(["2026-10-10"]), "consumed_minor": [100]})
    end = pd.Timestamp("2026-10-31")
    # 7.00 burned in 30 days, 1.00 left: 30 / 7 = 4.3 days -> the 5th day
    assert bdm._exhaustion_date(series, [0], 101_00, 100_00, 7_00, end) == pd.Timestamp("2026-11-05")
    assert bdm._exhaustion_date(series, [0], 101_00, 100_00, 0, end) is None  # no recent burn
    assert bdm._exhaustion_date(series, [0], 101_00, 100_00, -5_00, end) is None  # credits only
    assert bdm._exhaustion_date(series, [0], 10**9, 100_00, 1, end) is None  # centuries away: no date


def test_expired_po(month):
    prep, _, bd = month
    old = po_row(bd, "PO-OLD")
    assert old["status"] == "expired"
    assert old["this_period_minor"] == 10000
    assert old["percent_used"] == Decimal("20.00")
    assert old["valid_to"] == pd.Timestamp("2026-09-30")
    assert pd.isna(old["projected_exhaustion_date"])  # no longer burned: no projection
    assert issue_ids(prep, "expired_po") == {"o1"}


def test_po_used_by_the_wrong_customer_is_held_and_not_consumed(month):
    prep, _, bd = month
    held = prep.held.set_index("item_id")
    assert held.loc["c1", "reason"] == "po_customer_mismatch"
    assert "c1" not in set(prep.items["item_id"])
    c = po_row(bd, "PO-C")
    assert c["this_period_minor"] == 10000  # Beta's own c2 only
    assert c["customer_id"] == "102"


def test_unknown_po(month):
    prep, _, bd = month
    z = po_row(bd, "PO-ZZZ")
    assert z["status"] == "unknown"
    assert pd.isna(z["authorised_minor"]) and pd.isna(z["remaining_minor"])
    assert z["percent_used"] is None
    assert z["this_period_minor"] == 6000
    assert z["customer_id"] == "101"
    assert pd.isna(z["projected_exhaustion_date"])
    assert issue_ids(prep, "unknown_po") == {"z1"}
    row = burndown_csv.to_csv_frame(bd).set_index("po_number").loc["PO-ZZZ"]
    assert (row["authorised_amount"], row["remaining"], row["percent_used"]) == ("", "", "")


def test_hours_per_po_through_a_tickets_po(month):
    prep, _, bd = month
    hours = bdm.hours_per_po(prep.items).set_index("po_number")
    assert list(hours.index) == ["PO-HRS"]
    assert hours.loc["PO-HRS", "entries"] == 2
    assert hours.loc["PO-HRS", "hours"] == Decimal("3.75")
    assert hours.loc["PO-HRS", "amount_minor"] == 37500  # 3.75 h at the billing code's 100.00
    h = po_row(bd, "PO-HRS")
    assert h["hours_consumed"] == Decimal("3.75")
    assert h["authorised_hours"] == Decimal("40")
    csv = burndown_csv.to_csv_frame(bd).set_index("po_number").loc["PO-HRS"]
    assert (csv["authorised_hours"], csv["hours_consumed"]) == ("40", "3.75")


def test_charges_per_po(month):
    prep, _, _ = month
    charges = bdm.charges_per_po(prep.items).set_index("po_number")
    assert charges.loc["PO-A", "items"] == 3
    assert charges.loc["PO-A", "amount_minor"] == 105000
    assert "PO-HRS" not in charges.index  # labour only
    text = burndown_csv.per_po_csv_frame(bdm.charges_per_po(prep.items)).set_index("po_number")
    assert text.loc["PO-A", "amount"] == "1050.00"


def test_exposure_counts_invoiced_and_held_items_without_a_po(month):
    prep, _, _ = month
    assert prep.held.set_index("item_id").loc["g1", "reason"] == "missing_po"
    exp = bdm.exposure(prep.items, prep.held)
    got = [
        (r.customer_id, r.customer_name, r.billing_code, r.items, r.amount_minor, r.held_items)
        for r in exp.itertuples()
    ]
    assert got == [
        ("103", "Gamma plc", "Hardware", 1, 7000, 1),
        ("101", "Acme Ltd", "Hardware", 1, 4000, 0),
        ("101", "Acme Ltd", "(none)", 1, 1000, 0),
    ]
    csv = burndown_csv.exposure_csv_frame(exp)
    assert list(csv.columns[:5]) == ["customer_id", "customer_name", "billing_code", "items", "amount"]
    assert list(csv["amount"]) == ["70.00", "40.00", "10.00"]


def test_hold_policy_keeps_exactly_the_items_past_the_budget(tmp_path):
    items = """\
    id,itemDate,companyID,quantity,extendedPrice,purchaseOrderNumber
    h1,2026-10-02,101,1,600.00,PO-H
    h2,2026-10-09,101,1,300.00,PO-H
    h3,2026-10-16,101,1,250.00,PO-H
    h4,2026-10-23,101,1,100.00,PO-H
    """
    ref = """\
    PO Number,Customer ID,Authorised Amount,Valid From,Valid To
    PO-H,101,1000.00,2026-01-01,2026-12-31
    """
    folder = write_month(tmp_path / "in", BillingItems=items, po_reference=ref)
    prep, ref_table = run(folder, policy="hold")
    # h3 would take 900.00 to 1150.00: held, so it does not consume; h4 then fits exactly
    assert list(prep.held["item_id"]) == ["h3"]
    assert list(prep.held["reason"]) == ["over_budget"]
    bd = bdm.burndown(prep.items, ref_table, PERIOD)
    h = po_row(bd, "PO-H")
    assert (h["consumed_minor"], h["remaining_minor"], h["percent_used"]) == (100000, 0, Decimal("100.00"))
    assert h["status"] == "warning"  # exactly 100 % is not over
    assert h["projected_exhaustion_date"] == pd.Timestamp("2026-10-23")  # the day it reached the budget

    flagged, ref_table = run(folder, policy="flag")
    assert issue_ids(flagged, "over_budget") == {"h3", "h4"}  # every item beyond the budget is flagged
    assert po_row(bdm.burndown(flagged.items, ref_table, PERIOD), "PO-H")["status"] == "exceeded"


def test_burn_series_counts_earlier_invoicing_from_its_dates_or_the_period_start(month):
    prep, ref, _ = month
    series = bdm.burn_series(prep.items, ref, PREVIOUSLY, period=PERIOD)
    b = series[series["po_number"] == "PO-B"]
    assert list(b["date"].dt.strftime("%Y-%m-%d")) == ["2026-09-20", "2026-09-30", "2026-10-15"]
    assert list(b["consumed_minor"]) == [80000, 120000, 150000]
    a = series[series["po_number"] == "PO-A"]
    assert list(a["consumed_minor"]) == [50000, 85000, 105000]


def test_a_po_used_in_another_currency_is_an_error():
    items = _items([("po-x", "PO-X", "USD", 100, "charge", "2026-10-05")])
    ref = _ref({"po-x": ("PO-X", "EUR", 1000)})
    with pytest.raises(CurrencyMismatch, match="PO-X"):
        bdm.burndown(items, ref, PERIOD)


def test_a_budget_without_currency_takes_the_items_currency_places():
    items = _items([("po-y", "PO-Y", "JPY", 300, "charge", "2026-10-05")])
    ref = _ref({"po-y": ("PO-Y", "", 100000)})  # 1000.00 counted in EUR cents by reference_table
    y = po_row(bdm.burndown(items, ref, PERIOD), "PO-Y")
    assert (y["currency"], y["authorised_minor"], y["percent_used"]) == ("JPY", 1000, Decimal("30.00"))


def test_empty_run():
    bd = bdm.burndown(_items([]), _ref({}), PERIOD)
    assert bd.empty and list(bd.columns) == list(bdm.BURNDOWN_COLUMNS)
    assert list(burndown_csv.to_csv_frame(bd).columns) == list(burndown_csv.CSV_COLUMNS)
    assert bdm.exposure(_items([]), None).empty


# --- property: the burn-down adds up ---------------------------------------------------------------


def _items(rows: list[tuple[str, str, str, int, str, str]]) -> pd.DataFrame:
    """An items frame from (po_key, po_number, currency, amount_minor, kind, date) rows."""
    frame = pd.DataFrame(
        {
            "po_key": [r[0] for r in rows],
            "po_number": [r[1] for r in rows],
            "customer_id": "101",
            "customer_name": "Acme Ltd",
            "currency": [r[2] for r in rows],
            "amount_minor": pd.Series([r[3] for r in rows], dtype="int64"),
            "quantity": pd.Series([Decimal("1.5")] * len(rows), dtype=object),
            "kind": [r[4] for r in rows],
            "item_date": pd.to_datetime(pd.Series([r[5] for r in rows], dtype=object)).astype(
                "datetime64[ns]"
            ),
            "billing_code_id": "",
            "billing_code_name": "",
        }
    )
    return frame.reindex(columns=list(ITEM_COLUMNS), fill_value="")


def _ref(pos: dict[str, tuple[str, str, int]]) -> pd.DataFrame:
    """A reference table (as ``po.reference_table`` returns it) from po_key -> (number, currency, minor)."""
    index = pd.Index(list(pos), name="po_key", dtype="str")
    return pd.DataFrame(
        {
            "po_number": [v[0] for v in pos.values()],
            "customer_id": "101",
            "currency": [v[1] for v in pos.values()],
            "authorised_minor": pd.Series([v[2] for v in pos.values()], index=index, dtype="int64"),
            "authorised_hours": None,
            "valid_from": pd.Series(
                [pd.Timestamp("2026-01-01")] * len(pos), index=index, dtype="datetime64[ns]"
            ),
            "valid_to": pd.Series([pd.NaT] * len(pos), index=index, dtype="datetime64[ns]"),
            "description": "",
        },
        index=index,
    )


KEYS = ["p1", "p2", "p3", "p4", ""]  # p1-p3 in the reference table, p4 unknown, "" no PO
amounts = st.integers(min_value=-50_000, max_value=500_000)
days = st.dates(min_value=dt.date(2026, 8, 1), max_value=dt.date(2026, 10, 31))


@settings(max_examples=60, deadline=None)
@given(
    this_period=st.lists(
        st.tuples(st.sampled_from(KEYS), amounts, st.sampled_from(["labour", "charge"]), days)
    ),
    earlier=st.lists(st.tuples(st.sampled_from(KEYS[:4]), amounts, st.one_of(st.none(), days))),
    budgets=st.tuples(*[st.integers(min_value=0, max_value=2_000_000)] * 3),
)
def test_burndown_adds_up(this_period, earlier, budgets):
    items = _items([(k, k.upper(), "EUR", a, kind, d.isoformat()) for k, a, kind, d in this_period])
    ref = _ref({k: (k.upper(), "EUR", b) for k, b in zip(["p1", "p2", "p3"], budgets, strict=True)})
    previously = pd.DataFrame(
        {
            "po_key": [k for k, _, _ in earlier],
            "po_number": [k.upper() for k, _, _ in earlier],
            "customer_id": "101",
            "currency": "EUR",
            "amount_minor": pd.Series([a for _, a, _ in earlier], dtype="int64"),
            "quantity": "2",
            "kind": "labour",
            "item_date": [d.isoformat() if d else None for _, _, d in earlier],
        }
    )
    bd = bdm.burndown(items, ref, PERIOD, previously)
    assert (bd["consumed_minor"] == bd["previously_invoiced_minor"] + bd["this_period_minor"]).all()
    known = bd[bd["authorised_minor"].notna()]
    assert (known["remaining_minor"] == known["authorised_minor"] - known["consumed_minor"]).all()
    assert bd.loc[bd["authorised_minor"].isna(), "remaining_minor"].isna().all()
    with_po = [a for k, a, _, _ in this_period if k]
    assert int(bd["this_period_minor"].sum()) == sum(with_po)
    assert int(bd["previously_invoiced_minor"].sum()) == sum(a for _, a, _ in earlier)
    assert set(bd["po_key"]) == {"p1", "p2", "p3"} | {k for k, *_ in this_period if k} | {
        k for k, *_ in earlier
    }
    # the percent is the exact ratio rounded to 2 places, and the status follows from the same integers
    for row in known.itertuples():
        if row.authorised_minor:
            exact = Decimal(int(row.consumed_minor)) * 100 / Decimal(int(row.authorised_minor))
            assert abs(row.percent_used - exact) <= Decimal("0.005")
        over = row.consumed_minor > row.authorised_minor
        assert (row.status == "exceeded") == over
    series = bdm.burn_series(items, ref, previously, period=PERIOD)
    last = series.groupby("po_key")["consumed_minor"].last()
    assert all(last.get(k, 0) == c for k, c in zip(bd["po_key"], bd["consumed_minor"], strict=True))


def test_the_series_is_the_same_from_the_burndown_table(tmp_path) -> None:
    """The pipeline hands burn_series the burn-down it already has instead of building the PO table again."""
    from billing_lib.run.options import RunOptions
    from billing_lib.run.pipeline import analyse
    from billing_lib.sample.synthetic import write_sample

    write_sample(tmp_path / "m", 400)
    a = analyse(RunOptions(inputs=tmp_path / "m", period="2026-10", register=tmp_path / "none.sqlite"))
    alone = bdm.burn_series(a.invoice_set.items, a.ref, a.previously, period=Period.parse("2026-10"))
    pd.testing.assert_frame_equal(a.series, alone)


# --- on the PO tracking month (po_month) --------------------------------------------------


def test_burndown_counts_hours_and_the_monthly_budget(tracking_month):
    bd = tracking_month.burndown.set_index("po_number")
    a = bd.loc["PO-A"]
    assert (a["hours_previously"], a["hours_this_period"], a["hours_consumed"]) == (
        Decimal(2),
        Decimal(9),
        Decimal(11),
    )
    assert (a["authorised_hours"], a["hours_remaining"], a["hours_percent_used"], a["hours_status"]) == (
        Decimal(10), Decimal(-1), Decimal("110.00"), "exceeded",
    )  # fmt: skip
    c = bd.loc["PO-C"]
    # this month: 100.00 invoiced earlier in October (dated 2 October) and c1 + c2 of this run
    assert (c["monthly_minor"], c["month_consumed_minor"], c["month_this_period_minor"]) == (
        50000,
        65000,
        55000,
    )
    assert (c["month_remaining_minor"], c["month_percent_used"], c["month_status"]) == (
        -15000,
        Decimal("130.00"),
        "exceeded",
    )
    assert (c["percent_used"], c["status"]) == (Decimal("32.50"), "ok")  # its total budget is fine
    assert bd.loc["PO-T", "hours_status"] == "" and pd.isna(bd.loc["PO-T", "monthly_minor"])

"""PO coverage of a month (the "PO Number Tracking" report finance teams build by hand in Power BI).

Pure functions over the run's frames. The month's **charge records** are its billable items, the
ones to invoice and the ones held (later copies of a duplicated item left out): the same population
as the billing exposure report (``burndown.exposure``), so the figures add up across the pages.

- ``summary``: records, records with a PO, coverage % (records and amounts), distinct POs, billable
  amount per currency;
- ``coverage_by``: the same per customer (``CUSTOMER``) or per charge category (``CATEGORY``: the
  billing code, Autotask's work type / material code);
- ``po_fields``: where PO numbers are filled across Autotask's four objects (items and charges,
  contracts, projects, tasks and tickets) and how many of the month's records take their PO from each;
- ``recommendations``: the customers billed most without a PO, and which of them should be marked
  requires-PO.

Counts are ints, amounts ``int64`` minor units, percentages ``Decimal`` with two places (half up).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billing_lib.core.burndown import NO_BILLING_CODE, percent_of
from billing_lib.core.rules import Prepared
from billing_lib.domain.records import DUPLICATE_ITEM

CUSTOMER = ("customer_id", "customer_name")
CATEGORY = ("billing_code",)
RECORD_COLUMNS = (
    "source_table", "item_id", "kind", "item_date", "customer_id", "customer_name", "billing_code",
    "description", "quantity", "amount_minor", "currency", "po_key", "po_number", "po_source",
    "internal_po_number", "invoice_number", "held_reason",
)  # fmt: skip
COVERAGE_COLUMNS = (
    "records", "with_po", "without_po", "percent", "pos", "currency", "amount_minor", "with_po_minor",
    "without_po_minor", "amount_percent",
)  # fmt: skip
# Autotask's four objects that carry a PO number, and the PO cascade level (``po_source``) of each
OBJECTS = (
    ("Items and charges", ("billing_items", "time_entries", "charges"), "item"),
    ("Contracts", ("contracts",), "contract"),
    ("Projects", ("projects",), "project"),
    ("Tasks and tickets", ("tasks", "tickets"), "task"),
)


def _text(values: pd.Series) -> pd.Series:
    """Stripped text ('' where missing), each distinct value worked out once (a month repeats its codes)."""
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    texts = np.array([str(v).strip() for v in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype="str")


def charge_records(
    items: pd.DataFrame, held: pd.DataFrame | None = None, columns: tuple[str, ...] = RECORD_COLUMNS
) -> pd.DataFrame:
    """The month's billable records (``RECORD_COLUMNS``, or the ``columns`` of them asked for): the items
    to invoice, then the held ones.

    ``invoice_number`` is the run's (draft numbers in a draft) and empty for held items;
    ``held_reason`` is empty for the items to invoice. Later copies of a duplicated item are left out.
    """
    wanted = [c for c in RECORD_COLUMNS if c in columns]
    # only the source columns the asked-for records need (``billing_code`` is made of two of them)
    sources = {"billing_code_name", "billing_code_id"} if "billing_code" in wanted else set()
    keep = [c for c in items.columns if c in set(wanted) | sources]
    parts = [items[keep].assign(held_reason="")]
    if held is not None and len(held):
        kept = held[_text(held["reason"]) != DUPLICATE_ITEM]
        parts.append(
            kept[[c for c in keep if c in kept]].assign(held_reason=_text(kept["reason"]), invoice_number="")
        )
    rows = pd.concat(parts, ignore_index=True)
    out = pd.DataFrame(index=rows.index)
    for col in wanted:
        if col == "billing_code":
            name = _text(rows["billing_code_name"])
            code = _text(rows["billing_code_id"])
            out[col] = name.where(name != "", code.where(code != "", NO_BILLING_CODE))
        elif col in ("quantity", "item_date"):
            out[col] = rows.get(col, None)
        elif col == "amount_minor":
            out[col] = pd.to_numeric(rows[col]).fillna(0).astype("int64")
        else:
            out[col] = _text(rows[col]) if col in rows else ""
    if "currency" in out:
        out["currency"] = out["currency"].str.upper()
    return out.reset_index(drop=True)


def records_of(
    prep: Prepared, items: pd.DataFrame | None = None, held: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``charge_records`` of a prepared month (``items`` / ``held``: the consolidated ones, when there are)."""
    return charge_records(prep.items if items is None else items, prep.held if held is None else held)


# --- the summary -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrencyAmounts:
    """Billable amounts in one currency, minor units."""

    currency: str
    billable_minor: int
    with_po_minor: int
    without_po_minor: int
    percent: Decimal | None  # of the amount that carries a PO


@dataclass(frozen=True, slots=True)
class Coverage:
    """PO coverage of the month's charge records."""

    records: int
    with_po: int
    without_po: int
    percent: Decimal | None  # records with a PO ÷ records x 100; None when there is no record
    pos: int  # distinct PO numbers on the records
    amounts: tuple[CurrencyAmounts, ...]  # per currency, A-Z

    def as_dict(self) -> dict[str, object]:
        """Plain values (percent as text) for ``manifest.json`` and the checklist."""
        return {
            "records": self.records,
            "with_po": self.with_po,
            "without_po": self.without_po,
            "percent": "" if self.percent is None else str(self.percent),
            "pos": self.pos,
            "amounts": {
                a.currency: {
                    "billable_minor": a.billable_minor,
                    "with_po_minor": a.with_po_minor,
                    "without_po_minor": a.without_po_minor,
                    "percent": "" if a.percent is None else str(a.percent),
                }
                for a in self.amounts
            },
        }


def _covered(records: pd.DataFrame) -> pd.Series:
    return records["po_key"] != ""


def summary(records: pd.DataFrame) -> Coverage:
    """Charge records, records with a PO, coverage %, distinct POs and billable amounts per currency."""
    covered = _covered(records)
    with_po = int(covered.sum())
    amounts = []
    for currency, group in records.groupby("currency", sort=True):
        total = int(group["amount_minor"].sum())
        with_minor = int(group.loc[covered[group.index], "amount_minor"].sum())
        amounts.append(
            CurrencyAmounts(
                str(currency), total, with_minor, total - with_minor, _amount_percent(group, covered)
            )
        )
    return Coverage(
        records=len(records),
        with_po=with_po,
        without_po=len(records) - with_po,
        percent=percent_of(with_po, len(records)) if len(records) else None,
        pos=int(records.loc[covered, "po_key"].nunique()),
        amounts=tuple(amounts),
    )


def _amount_percent(group: pd.DataFrame, covered: pd.Series) -> Decimal | None:
    """Share of the gross amount (credits counted by size) that carries a PO."""
    gross = group["amount_minor"].abs()
    total = int(gross.sum())
    return percent_of(int(gross[covered[group.index]].sum()), total) if total else None


def coverage_by(records: pd.DataFrame, by: tuple[str, ...] = CUSTOMER) -> pd.DataFrame:
    """Coverage per group (``CUSTOMER``, ``CATEGORY`` or any record columns) and currency.

    Columns: the ``by`` columns, then ``COVERAGE_COLUMNS``. Ordered by the amount billed without a
    PO, largest first (the exposure), then by the group.
    """
    columns = [*by, *COVERAGE_COLUMNS]
    if records.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame = records.assign(
        _with=_covered(records).astype("int64"),
        _with_minor=records["amount_minor"].where(_covered(records), 0),
        _po=records["po_key"].where(_covered(records), None),
        _gross=records["amount_minor"].abs(),
        _gross_with=records["amount_minor"].abs().where(_covered(records), 0),
    )
    out = frame.groupby([*by, "currency"], as_index=False, sort=True).agg(
        records=("amount_minor", "size"),
        with_po=("_with", "sum"),
        pos=("_po", "nunique"),
        amount_minor=("amount_minor", "sum"),
        with_po_minor=("_with_minor", "sum"),
        _gross=("_gross", "sum"),
        _gross_with=("_gross_with", "sum"),
    )
    for col in ("records", "with_po", "pos", "amount_minor", "with_po_minor"):
        out[col] = out[col].astype("int64")
    out["without_po"] = out["records"] - out["with_po"]
    out["without_po_minor"] = out["amount_minor"] - out["with_po_minor"]
    out["percent"] = pd.Series(
        [percent_of(int(w), int(n)) for w, n in zip(out["with_po"], out["records"], strict=True)],
        index=out.index,
        dtype=object,
    )
    out["amount_percent"] = pd.Series(
        [
            percent_of(int(w), int(g)) if g else None
            for w, g in zip(out["_gross_with"], out["_gross"], strict=True)
        ],
        index=out.index,
        dtype=object,
    )
    out = out.sort_values(["without_po_minor", *by], ascending=[False, *([True] * len(by))], kind="stable")
    return out[columns].reset_index(drop=True)


# --- PO fields across Autotask's objects ---------------------------------------------------------


def po_fields(prep: Prepared, records: pd.DataFrame) -> pd.DataFrame:
    """Where PO numbers are filled: one row per Autotask object.

    Columns: ``object``, ``tables`` (the input tables counted, ``; ``-joined; empty when none was
    supplied), ``records`` (rows of those tables; for items and charges: the month's charge
    records), ``with_po``, ``percent``, ``internal_po`` (records with an internal PO number; items
    only), ``records_using`` (the month's charge records whose PO comes from this object by the
    cascade: own PO, task or ticket, project, contract).
    """
    using = records["po_source"].value_counts()
    rows: list[dict[str, object]] = []
    for label, tables, level in OBJECTS:
        if level == "item":
            # an item's own PO is the first level of the cascade: its source is "item" exactly when filled
            total, filled = len(records), int((records["po_source"] == "item").sum())
            internal: int | None = int((records["internal_po_number"] != "").sum())
            present = [t for t in tables if prep.inputs.has(t)]
        else:
            present = [t for t in tables if prep.inputs.has(t)]
            frames = [prep.inputs.table(t) for t in present]
            total = sum(len(f) for f in frames)
            filled = sum(int((_text(f["po_number"]) != "").sum()) for f in frames)
            internal = None
        rows.append(
            {
                "object": label,
                "tables": "; ".join(present),
                "records": total,
                "with_po": filled,
                "percent": percent_of(filled, total) if total else None,
                "internal_po": internal,
                "records_using": int(using.get(level, 0)),
            }
        )
    out = pd.DataFrame(rows)
    for col in ("percent", "internal_po"):  # Decimals and ints kept as they are, None where none
        out[col] = pd.Series([r[col] for r in rows], index=out.index, dtype=object)
    return out


# --- recommendations -------------------------------------------------------------------------------


def _requires_po(prep: Prepared) -> set[str]:
    companies = prep.companies
    if companies.empty or "requires_po" not in companies:
        return set()
    flagged = companies["requires_po"].map(lambda v: v is True)
    return set(_text(companies.loc[flagged, "customer_id"]))


def recommendations(
    by_customer: pd.DataFrame, ref: pd.DataFrame, requires_po: set[str] | frozenset[str] = frozenset()
) -> pd.DataFrame:
    """The customers billed without a PO, largest uncovered amount first, with what to do about each.

    ``by_customer`` is ``coverage_by(records, CUSTOMER)``; ``ref`` the PO reference table;
    ``requires_po`` the customers already marked requires-PO. ``mark_requires_po`` is True for a
    customer not marked that works with POs (some of its records carry one, or the reference table
    holds a PO of it) and is still billed without one: Autotask's "require PO" flag would hold those
    items until they get a PO. Columns: customer_id, customer_name, currency, records, without_po,
    amount_minor, without_po_minor, amount_percent, pos_on_record, requires_po, mark_requires_po, advice.
    """
    ref_customers = _text(ref["customer_id"]).value_counts() if len(ref) else pd.Series(dtype="int64")
    rows = by_customer[by_customer["without_po"] > 0]
    out: list[dict[str, object]] = []
    r: Any
    for r in rows.itertuples(index=False):
        cid = str(r.customer_id)
        on_record = int(ref_customers.get(cid, 0))
        required = cid in requires_po
        uses_pos = int(r.with_po) > 0 or on_record > 0
        mark = not required and uses_pos
        if required:
            advice = "already requires a PO: its items without one are held until they get one"
        elif mark:
            reasons = []
            if int(r.with_po):
                reasons.append(f"{int(r.with_po):,} of {int(r.records):,} records carry a PO")
            if on_record:
                reasons.append(f"{on_record:,} PO{'s' if on_record != 1 else ''} on record")
            advice = "mark requires-PO: it works with POs (" + ", ".join(reasons) + ") yet is billed without"
        else:
            advice = "ask whether it needs a PO: among the largest amounts billed without one"
        out.append(
            {
                "customer_id": cid,
                "customer_name": str(r.customer_name),
                "currency": str(r.currency),
                "records": int(r.records),
                "without_po": int(r.without_po),
                "amount_minor": int(r.amount_minor),
                "without_po_minor": int(r.without_po_minor),
                "amount_percent": r.amount_percent,
                "pos_on_record": on_record,
                "requires_po": required,
                "mark_requires_po": mark,
                "advice": advice,
            }
        )
    columns = [
        "customer_id", "customer_name", "currency", "records", "without_po", "amount_minor",
        "without_po_minor", "amount_percent", "pos_on_record", "requires_po", "mark_requires_po", "advice",
    ]  # fmt: skip
    frame = pd.DataFrame(out, columns=columns)
    return frame.sort_values(
        ["without_po_minor", "customer_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


@dataclass
class CoverageReport:
    """Everything the coverage pages show, computed once."""

    records: pd.DataFrame
    summary: Coverage
    by_customer: pd.DataFrame
    by_category: pd.DataFrame
    fields: pd.DataFrame
    recommendations: pd.DataFrame


def coverage_report(
    prep: Prepared, ref: pd.DataFrame, items: pd.DataFrame | None = None, held: pd.DataFrame | None = None
) -> CoverageReport:
    """The coverage of a prepared month (``items`` / ``held``: the consolidated run's, when there is one)."""
    records = records_of(prep, items, held)
    by_customer = coverage_by(records, CUSTOMER)
    return CoverageReport(
        records=records,
        summary=summary(records),
        by_customer=by_customer,
        by_category=coverage_by(records, CATEGORY),
        fields=po_fields(prep, records),
        recommendations=recommendations(by_customer, ref, _requires_po(prep)),
    )


__all__ = [
    "CATEGORY",
    "CUSTOMER",
    "Coverage",
    "CoverageReport",
    "charge_records",
    "coverage_by",
    "coverage_report",
    "po_fields",
    "recommendations",
    "summary",
]

"""PO budget burn-down, billing exposure, charges and hours per PO (SPEC section 4).

Pure functions over frames. Amounts stay ``int64`` minor units and are summed as integers; the
percent used is a ``Decimal``; hours are exact ``Decimal`` sums. Floats appear only in ``charts``.

``items`` is what this run invoices (``rules.ITEM_COLUMNS``, after ``po.check_pos``). ``previously``
is what earlier invoices in the register took, one row per item: ``po_key``, ``po_number``,
``customer_id``, ``currency``, ``amount_minor``, ``quantity`` (decimal text), ``kind``, ``item_date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from billing_lib.core.rules import po_key
from billing_lib.domain.errors import CurrencyMismatch
from billing_lib.domain.money import (
    DEFAULT_CURRENCY,
    minor_digits,
    parse_decimal,
    to_minor,
)
from billing_lib.domain.period import Period
from billing_lib.domain.records import DUPLICATE_ITEM
from billing_lib.domain.text import cell_text

# Statuses, in the order they are tested: the first that matches wins.
UNKNOWN, EXPIRED, EXCEEDED, WARNING, OK = "unknown", "expired", "exceeded", "warning", "ok"
WARNING_PERCENT = 80
# the recent burn rate: the average daily burn over the last 30 days up to the period end
BURN_WINDOW_DAYS = 30
# a budget that lasts more than ten years at the recent rate gets no projected date
PROJECTION_HORIZON_DAYS = 3653

BURNDOWN_COLUMNS = (
    "po_key", "po_number", "customer_id", "currency", "authorised_minor", "previously_invoiced_minor",
    "this_period_minor", "consumed_minor", "remaining_minor", "percent_used", "status", "authorised_hours",
    "hours_consumed", "projected_exhaustion_date", "valid_from", "valid_to", "as_of",
    # authorised hours burned like amounts (None / "" where the PO authorises no hours)
    "hours_previously", "hours_this_period", "hours_remaining", "hours_percent_used", "hours_status",
    # the monthly budget of a PO that authorises an amount per month (<NA> / "" for the others): what
    # is invoiced on it dated in the period, earlier runs of the period and this one together
    "monthly_minor", "month_consumed_minor", "month_this_period_minor", "month_remaining_minor",
    "month_percent_used", "month_status",
)  # fmt: skip
SERIES_COLUMNS = ("po_key", "po_number", "date", "amount_minor", "consumed_minor")
NO_BILLING_CODE = "(none)"

_USAGE_COLUMNS = (
    "po_key", "po_number", "customer_id", "currency", "amount_minor", "quantity", "kind", "item_date",
)  # fmt: skip


# --- the rows that consume a PO --------------------------------------------------------------------


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").fillna("")


def _previous_usage(previously: pd.DataFrame | None) -> pd.DataFrame:
    """Earlier invoiced rows on a PO, typed: int amounts, Decimal quantities, datetime dates."""
    if previously is None or len(previously) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _USAGE_COLUMNS}).assign(
            amount_minor=pd.Series([], dtype="int64"), item_date=pd.Series([], dtype="datetime64[ns]")
        )
    prev = previously.copy()
    for col in ("po_number", "customer_id", "currency", "kind"):
        prev[col] = _text(prev[col]) if col in prev else ""
    given = _text(prev["po_key"]) if "po_key" in prev else pd.Series("", index=prev.index)
    prev["po_key"] = given.where(given != "", prev["po_number"].map(po_key))
    prev["currency"] = prev["currency"].str.upper()
    prev["amount_minor"] = pd.to_numeric(prev["amount_minor"]).fillna(0).astype("int64")
    raw_qty = prev["quantity"] if "quantity" in prev else pd.Series(None, index=prev.index, dtype=object)
    quantities = [parse_decimal(q) or Decimal(0) for q in raw_qty.to_numpy(object)]
    prev["quantity"] = pd.Series(quantities, index=prev.index, dtype=object)
    raw_date = prev["item_date"] if "item_date" in prev else pd.Series(None, index=prev.index, dtype=object)
    prev["item_date"] = pd.to_datetime(raw_date, errors="coerce").astype("datetime64[ns]")
    return prev.loc[prev["po_key"] != "", list(_USAGE_COLUMNS)]


def _current_usage(items: pd.DataFrame) -> pd.DataFrame:
    """This run's invoiced items that carry a PO."""
    usage = items.loc[_text(items["po_key"]) != "", list(_USAGE_COLUMNS)].copy()
    usage["amount_minor"] = usage["amount_minor"].astype("int64")
    usage["item_date"] = usage["item_date"].astype("datetime64[ns]")
    return usage


def _only(values: list[str], what: str) -> str:
    distinct = sorted(set(values) - {""})
    if len(distinct) > 1:
        raise CurrencyMismatch(
            f"{what} is used in several currencies ({', '.join(distinct)}); "
            "a PO's budget can only be consumed in one currency"
        )
    return distinct[0] if distinct else ""


def _po_table(current: pd.DataFrame, previous: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Each PO (reference table first, then POs seen only on items): number, customer, currency, budget.

    Raises ``CurrencyMismatch`` when items on one PO are in a currency other than the PO's.
    """
    seen = pd.concat([current, previous], ignore_index=True)  # this period's spelling first
    keys = list(dict.fromkeys([*map(str, ref.index), *seen["po_key"]]))
    spelling = seen.drop_duplicates("po_key").set_index("po_key")["po_number"]
    distinct = seen[["po_key", "customer_id"]].drop_duplicates()  # each PO's customers, once each
    customers = distinct.groupby("po_key")["customer_id"].agg(lambda s: "; ".join(sorted(set(s) - {""})))
    currencies = seen[["po_key", "currency"]].drop_duplicates().groupby("po_key")["currency"].agg(list)
    by_key = ref.to_dict("index")  # each PO's row of the reference table, read once
    rows: list[dict[str, object]] = []
    for key in keys:
        used_in = currencies.get(key, [])
        if key not in by_key:
            name = str(spelling.get(key, "")) or key
            currency = _only(used_in, f"PO {name}") or DEFAULT_CURRENCY
            rows.append(
                {
                    "po_key": key,
                    "po_number": name,
                    "customer_id": customers.get(key, ""),
                    "currency": currency,
                    "authorised_minor": pd.NA,
                }
            )
            continue
        po = by_key[key]
        name, ref_currency = str(po["po_number"]), cell_text(po["currency"])
        currency = _only([ref_currency, *used_in], f"PO {name}") or DEFAULT_CURRENCY
        authorised = int(po["authorised_minor"])
        if not ref_currency and minor_digits(currency) != minor_digits(DEFAULT_CURRENCY):
            # the reference table counted a budget without a currency in the default currency's places
            authorised = to_minor(Decimal(authorised).scaleb(-minor_digits(DEFAULT_CURRENCY)), currency)
        hours = po["authorised_hours"]
        monthly = po.get("monthly_amount")
        rows.append(
            {
                "po_key": key,
                "po_number": name,
                "customer_id": cell_text(po["customer_id"]) or customers.get(key, ""),
                "currency": currency,
                "authorised_minor": authorised,
                "authorised_hours": hours if isinstance(hours, Decimal) else None,
                "monthly_minor": to_minor(monthly, currency) if isinstance(monthly, Decimal) else pd.NA,
                "valid_from": po["valid_from"],
                "valid_to": po["valid_to"],
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "po_key",
            "po_number",
            "customer_id",
            "currency",
            "authorised_minor",
            "authorised_hours",
            "monthly_minor",
            "valid_from",
            "valid_to",
        ],
    )
    table["authorised_minor"] = table["authorised_minor"].astype("Int64")
    table["monthly_minor"] = table["monthly_minor"].astype("Int64")
    table["authorised_hours"] = (
        table["authorised_hours"].astype(object).where(table["authorised_hours"].notna(), None)
    )
    for col in ("valid_from", "valid_to"):
        table[col] = pd.to_datetime(table[col]).astype("datetime64[ns]")
    return table.set_index("po_key")


# --- the burn series -------------------------------------------------------------------------------


def _opening_date(current: pd.DataFrame, previous: pd.DataFrame, period: Period | None) -> pd.Timestamp:
    """Where undated earlier invoicing goes: the day before the period (or before the first date seen)."""
    if period is not None:
        return pd.Timestamp(period.start) - pd.Timedelta(days=1)
    dates = pd.concat([current["item_date"], previous["item_date"]]).dropna()
    return (dates.min() if len(dates) else pd.Timestamp(dt.date.today())) - pd.Timedelta(days=1)


def _series(
    current: pd.DataFrame, previous: pd.DataFrame, pos: pd.DataFrame, period: Period | None
) -> pd.DataFrame:
    opening = _opening_date(current, previous, period)
    last = pd.Timestamp(period.end) if period is not None else opening
    prev = previous.assign(item_date=previous["item_date"].fillna(opening))
    cur = current.assign(item_date=current["item_date"].fillna(last))
    usage = pd.concat(
        [prev[["po_key", "item_date", "amount_minor"]], cur[["po_key", "item_date", "amount_minor"]]],
        ignore_index=True,
    ).rename(columns={"item_date": "date"})
    usage["amount_minor"] = usage["amount_minor"].astype("int64")
    daily = usage.groupby(["po_key", "date"], as_index=False, sort=True).agg(
        amount_minor=("amount_minor", "sum")
    )
    daily["consumed_minor"] = daily.groupby("po_key")["amount_minor"].cumsum().astype("int64")
    daily["po_number"] = daily["po_key"].map(pos["po_number"])
    return daily[list(SERIES_COLUMNS)].reset_index(drop=True)


def burn_series(
    items: pd.DataFrame,
    ref: pd.DataFrame,
    previously: pd.DataFrame | None = None,
    period: Period | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cumulative consumption per PO and date (``SERIES_COLUMNS``), for the charts.

    Earlier invoicing counts at its item dates; rows without a date are the opening balance on the
    day before ``period`` starts (without a period: the day before the first date seen). ``table``
    is the ``burndown`` of the same items, when the caller has it: its PO spellings are reused.
    """
    current, previous = _current_usage(items), _previous_usage(previously)
    pos = table.set_index("po_key") if table is not None else _po_table(current, previous, ref)
    return _series(current, previous, pos, period)


# --- the burn-down table ---------------------------------------------------------------------------


def percent_of(consumed: int, authorised: int) -> Decimal | None:
    """``consumed`` ÷ ``authorised`` × 100 rounded half up to two places; None when nothing is authorised."""
    if authorised <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60  # far more digits than the two kept: rounding half up happens once, in quantize
        return (Decimal(consumed) * 100 / Decimal(authorised)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def hours_percent_of(used: Decimal, authorised: Decimal) -> Decimal | None:
    """Hours used ÷ authorised × 100, two places half up; None when no hours are authorised."""
    if authorised <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return (used * 100 / authorised).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def budget_status(used: Decimal | int, authorised: Decimal | int) -> str:
    """A budget's own status (hours, a month): exceeded over 100 %, warning from 80 %, else ok."""
    if used > authorised:
        return EXCEEDED
    if authorised > 0 and used * 100 >= WARNING_PERCENT * authorised:
        return WARNING
    return OK


def status_of(
    known: bool, consumed: int, authorised: int, valid_to: pd.Timestamp | None, period_end: dt.date
) -> str:
    """The PO's status; the first that applies wins (SPEC section 4)."""
    if not known:
        return UNKNOWN
    if valid_to is not None and not pd.isna(valid_to) and valid_to.date() < period_end:
        return EXPIRED
    if consumed > authorised:
        return EXCEEDED
    if authorised > 0 and consumed * 100 >= WARNING_PERCENT * authorised:
        return WARNING
    return OK


def _exhaustion_date(
    series: pd.DataFrame,
    rows: Sequence[int] | np.ndarray,
    authorised: int,
    consumed: int,
    window_burn: int,
    period_end: pd.Timestamp,
) -> pd.Timestamp | None:
    """When the remaining budget reaches 0: the date it did (from the PO's ``rows`` of the consumption
    ``series``), or the period end plus remaining ÷ daily burn."""
    remaining = authorised - consumed
    if remaining <= 0:
        if consumed <= 0 or not len(rows):
            return None
        series = series.take(np.asarray(rows, dtype=np.intp))
        below = np.flatnonzero(series["consumed_minor"].to_numpy(np.int64) < authorised)
        # the date from which the cumulative amount stayed at or above the budget
        return series["date"].iloc[below[-1] + 1 if len(below) else 0]
    if window_burn <= 0:
        return None
    days = -(-remaining * BURN_WINDOW_DAYS // window_burn)  # ceil: the day the last of the budget is used
    if days > PROJECTION_HORIZON_DAYS:
        return None
    return period_end + pd.Timedelta(days=days)


def burndown(
    items: pd.DataFrame, ref: pd.DataFrame, period: Period, previously: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per PO in the reference table or seen on items / earlier invoices (``BURNDOWN_COLUMNS``).

    ``remaining_minor`` and ``authorised_minor`` are ``<NA>`` for POs not in the reference table;
    ``percent_used`` is a ``Decimal`` (None when unknown or nothing authorised); ``hours_consumed``
    is the exact sum of labour quantities, earlier and this period.
    """
    current, previous = _current_usage(items), _previous_usage(previously)
    pos = _po_table(current, previous, ref)
    series = _series(current, previous, pos, period)
    end = pd.Timestamp(period.end)
    this_period = current.groupby("po_key")["amount_minor"].sum()
    earlier = previous.groupby("po_key")["amount_minor"].sum()
    in_window = series[(series["date"] > end - pd.Timedelta(days=BURN_WINDOW_DAYS)) & (series["date"] <= end)]
    window_burn = in_window.groupby("po_key")["amount_minor"].sum()
    hours_now, hours_before = _hours(current), _hours(previous)
    start = pd.Timestamp(period.start)
    now_in_month = current[(current["item_date"] >= start) & (current["item_date"] <= end)]
    before_in_month = previous[(previous["item_date"] >= start) & (previous["item_date"] <= end)]
    month_now = now_in_month.groupby("po_key")["amount_minor"].sum()
    month_used = pd.concat([now_in_month, before_in_month]).groupby("po_key")["amount_minor"].sum()
    by_po = series.groupby("po_key", sort=False).indices if len(series) else {}  # each PO's rows of it

    out = pos.reset_index()
    out["previously_invoiced_minor"] = out["po_key"].map(earlier).fillna(0).astype("int64")
    out["this_period_minor"] = out["po_key"].map(this_period).fillna(0).astype("int64")
    out["consumed_minor"] = out["previously_invoiced_minor"] + out["this_period_minor"]
    out["remaining_minor"] = (out["authorised_minor"] - out["consumed_minor"]).astype("Int64")
    percents: list[Decimal | None] = []
    statuses: list[str] = []
    exhaustion: list[pd.Timestamp | None] = []
    columns = ("po_key", "authorised_minor", "consumed_minor", "valid_to")
    for key, authorised_or_na, consumed, valid_to in zip(*(out[c].tolist() for c in columns), strict=True):
        known = not pd.isna(authorised_or_na)
        authorised = int(authorised_or_na) if known else 0
        percents.append(percent_of(consumed, authorised) if known else None)
        statuses.append(status_of(known, consumed, authorised, valid_to, period.end))
        # an expired PO's budget is not burned any further: only the day it ran out, if it did
        projected = known and (statuses[-1] != EXPIRED or consumed >= authorised)
        burn = int(window_burn.get(key, 0))
        rows = np.asarray(by_po.get(key, []), dtype=np.intp)
        exhaustion.append(
            _exhaustion_date(series, rows, authorised, consumed, burn, end) if projected else None
        )
    out["percent_used"] = pd.Series(percents, index=out.index, dtype=object)
    out["status"] = pd.Series(statuses, index=out.index, dtype="str")
    _hours_columns(out, hours_before, hours_now)
    _month_columns(out, month_used, month_now)
    out["projected_exhaustion_date"] = pd.to_datetime(pd.Series(exhaustion, index=out.index, dtype=object))
    out["projected_exhaustion_date"] = out["projected_exhaustion_date"].astype("datetime64[ns]")
    out["as_of"] = end
    out["as_of"] = out["as_of"].astype("datetime64[ns]")
    out = out.sort_values("po_number", key=lambda s: s.str.casefold(), kind="stable").reset_index(drop=True)
    return out[list(BURNDOWN_COLUMNS)]


def _hours(usage: pd.DataFrame) -> dict[str, Decimal]:
    """Exact labour hours per PO key."""
    labour = usage[usage["kind"] == "labour"]
    hours: dict[str, Decimal] = {}
    for key, qty in zip(labour["po_key"].tolist(), labour["quantity"].tolist(), strict=True):
        hours[key] = hours.get(key, Decimal(0)) + (qty if isinstance(qty, Decimal) else Decimal(0))
    return hours


def _objects(values: Sequence[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def _hours_columns(out: pd.DataFrame, before: dict[str, Decimal], now: dict[str, Decimal]) -> None:
    """Hours earlier, this period, consumed, remaining, percent and status: authorised hours burned like amounts."""
    keys = out["po_key"].tolist()
    earlier = [before.get(k, Decimal(0)) for k in keys]
    this = [now.get(k, Decimal(0)) for k in keys]
    used = [a + b for a, b in zip(earlier, this, strict=True)]
    authorised = [h if isinstance(h, Decimal) else None for h in out["authorised_hours"].tolist()]
    pairs = list(zip(used, authorised, strict=True))
    out["hours_previously"] = _objects(earlier).set_axis(out.index)
    out["hours_this_period"] = _objects(this).set_axis(out.index)
    out["hours_consumed"] = _objects(used).set_axis(out.index)
    out["hours_remaining"] = _objects([None if a is None else a - u for u, a in pairs]).set_axis(out.index)
    out["hours_percent_used"] = _objects(
        [None if a is None else hours_percent_of(u, a) for u, a in pairs]
    ).set_axis(out.index)
    out["hours_status"] = pd.Series(
        ["" if a is None else budget_status(u, a) for u, a in pairs], index=out.index, dtype="str"
    )


def _month_columns(out: pd.DataFrame, month_used: pd.Series, month_now: pd.Series) -> None:
    """This month against a monthly budget (POs with ``monthly_amount`` in the reference table)."""
    has = out["monthly_minor"].notna()
    used = out["po_key"].map(month_used).fillna(0).astype("int64")
    out["month_consumed_minor"] = used.astype("Int64").mask(~has)
    now = out["po_key"].map(month_now).fillna(0).astype("int64")
    out["month_this_period_minor"] = now.astype("Int64").mask(~has)
    out["month_remaining_minor"] = (out["monthly_minor"] - used).astype("Int64").mask(~has)
    monthly = out["monthly_minor"].tolist()
    pairs = list(zip(used.tolist(), monthly, has.tolist(), strict=True))
    out["month_percent_used"] = _objects(
        [percent_of(int(u), int(m)) if h else None for u, m, h in pairs]
    ).set_axis(out.index)
    out["month_status"] = pd.Series(
        [budget_status(int(u), int(m)) if h else "" for u, m, h in pairs], index=out.index, dtype="str"
    )


# --- billing exposure, charges and hours per PO ----------------------------------------------------


def _billing_code(frame: pd.DataFrame) -> pd.Series:
    name, code = _text(frame["billing_code_name"]), _text(frame["billing_code_id"])
    return name.where(name != "", code.where(code != "", NO_BILLING_CODE))


def exposure(items: pd.DataFrame, held: pd.DataFrame | None = None) -> pd.DataFrame:
    """Billable items without a PO, invoiced or held, by customer, billing code and currency; largest first.

    Columns: customer_id, customer_name, billing_code, currency, items, amount_minor, held_items,
    held_amount_minor. Held duplicates (later copies of an item already counted) are left out.
    """
    parts = [items.loc[_text(items["po_key"]) == ""].assign(_held=False)]
    if held is not None and len(held):
        no_po = (_text(held["po_key"]) == "") & (_text(held["reason"]) != DUPLICATE_ITEM)
        parts.append(held.loc[no_po].assign(_held=True))
    rows = pd.concat(parts, ignore_index=True)
    rows = pd.DataFrame(
        {
            "customer_id": _text(rows["customer_id"]),
            "customer_name": _text(rows["customer_name"]),
            "billing_code": _billing_code(rows),
            "currency": _text(rows["currency"]),
            "amount_minor": rows["amount_minor"].fillna(0).astype("int64"),
            "_held": rows["_held"].astype(bool),
        }
    )
    rows["_held_minor"] = rows["amount_minor"].where(rows["_held"], 0)
    out = rows.groupby(
        ["customer_id", "customer_name", "billing_code", "currency"], as_index=False, sort=True
    ).agg(
        items=("amount_minor", "size"),
        amount_minor=("amount_minor", "sum"),
        held_items=("_held", "sum"),
        held_amount_minor=("_held_minor", "sum"),
    )
    for col in ("items", "amount_minor", "held_items", "held_amount_minor"):
        out[col] = out[col].astype("int64")
    out = out.sort_values(
        ["amount_minor", "customer_id", "billing_code"], ascending=[False, True, True], kind="stable"
    )
    return out[
        [
            "customer_id",
            "customer_name",
            "billing_code",
            "currency",
            "items",
            "amount_minor",
            "held_items",
            "held_amount_minor",
        ]
    ].reset_index(drop=True)


def _per_po(items: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = items.loc[(items["kind"] == kind) & (_text(items["po_key"]) != "")]
    return rows.sort_values(["po_key", "currency"], kind="stable")


def charges_per_po(items: pd.DataFrame) -> pd.DataFrame:
    """Charges (materials, fees, expenses) invoiced per PO.

    Columns: po_number, customer_id, currency, items, amount_minor.
    """
    rows = _per_po(items, "charge")
    out = rows.groupby(["po_key", "currency"], as_index=False, sort=True).agg(
        po_number=("po_number", "first"),
        customer_id=("customer_id", lambda s: "; ".join(sorted(set(s)))),
        items=("amount_minor", "size"),
        amount_minor=("amount_minor", "sum"),
    )
    out["items"] = out["items"].astype("int64")
    out["amount_minor"] = out["amount_minor"].astype("int64")
    return out[["po_number", "customer_id", "currency", "items", "amount_minor"]]


def hours_per_po(items: pd.DataFrame) -> pd.DataFrame:
    """Labour invoiced per PO (time reaches a PO through its task, ticket, project or contract).

    Columns: po_number, customer_id, currency, entries, hours (exact ``Decimal`` sum), amount_minor.
    """
    rows = _per_po(items, "labour")
    out = rows.groupby(["po_key", "currency"], as_index=False, sort=True).agg(
        po_number=("po_number", "first"),
        customer_id=("customer_id", lambda s: "; ".join(sorted(set(s)))),
        entries=("amount_minor", "size"),
        amount_minor=("amount_minor", "sum"),
        hours=("quantity", lambda q: sum((v for v in q if isinstance(v, Decimal)), Decimal(0))),
    )
    out["entries"] = out["entries"].astype("int64")
    out["amount_minor"] = out["amount_minor"].astype("int64")
    out["hours"] = out["hours"].astype(object)
    return out[["po_number", "customer_id", "currency", "entries", "hours", "amount_minor"]]

"""An item's identity: its kind and its id (``ticket_charge:501``), whatever file or sheet it came from.

SPEC section 2: a ticket charge is the same charge in ``TicketCharges.csv``, ``charges.csv`` or
``TicketCost.csv``, and a posted BillingItems row and the row it was posted from (``timeEntryID``,
``ticketChargeID``, ``contractChargeID``, ``projectChargeID``, ``expenseItemID``) are one item. The
register records items by this key, so renaming a file between two runs cannot bill an item again.
"""

from __future__ import annotations

import pandas as pd

from billing_lib.domain.records import COPY_OF_ANOTHER_FILE, Issue

# a posted billing item's link to the row it was posted from, and that row's kind (first set wins)
SOURCE_LINKS = (
    ("time_entry_id", "time_entry"),
    ("ticket_charge_id", "ticket_charge"),
    ("contract_charge_id", "contract_charge"),
    ("project_charge_id", "project_charge"),
    ("expense_item_id", "expense"),
)
# a charges file named for its kind (``source_table``) -> the kind of its rows
CHARGE_KINDS = {
    "ticket_charges": "ticket_charge",
    "contract_charges": "contract_charge",
    "project_charges": "project_charge",
    "expenses": "expense",
}
# a charges file that does not say which kind: the parent its rows name tells (ticket before project
# before contract: a ticket charge names its ticket and often the ticket's contract too)
_CHARGE_PARENTS = (
    ("ticket_id", "ticket_charge"),
    ("project_id", "project_charge"),
    ("contract_id", "contract_charge"),
)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[column].astype("str").fillna("").where(frame[column].notna(), "")


def item_keys(raw: pd.DataFrame, table: str) -> pd.Series:
    """``kind:id`` of every row of a billable table (``billing_items``, ``time_entries`` or ``charges``)."""
    ids = _text(raw, "item_id")
    if table == "time_entries":
        return "time_entry:" + ids
    if table == "billing_items":
        return "billing_item:" + ids
    source = _text(raw, "_source")
    kind: pd.Series = source.map(CHARGE_KINDS).fillna("")
    inferred = pd.Series("charge", index=raw.index, dtype="str")
    for column, parent_kind in reversed(_CHARGE_PARENTS):
        inferred = inferred.where(_text(raw, column) == "", parent_kind)
    kind = kind.where(kind != "", inferred)
    return kind + ":" + ids


def source_keys(raw: pd.DataFrame, table: str) -> pd.Series:
    """For a posted BillingItems row, the ``kind:id`` of the row it was posted from ('' where none, and
    for every other table): invoicing either one invoices both, in whichever order they arrive."""
    keys = pd.Series("", index=raw.index, dtype="str")
    if table != "billing_items":
        return keys
    for column, kind in reversed(SOURCE_LINKS):  # reversed: the first link set is applied last, so wins
        link = _text(raw, column)
        keys = keys.where(link == "", kind + ":" + link)
    return keys


def _place(file: object, sheet: object) -> str:
    return f"{file}, sheet {sheet}" if isinstance(sheet, str) and sheet else str(file)


def file_copies(raw: pd.DataFrame) -> tuple[pd.Series, list[Issue]]:
    """Rows that repeat, value for value, an item already read from another file or sheet of the table.

    Browsers save a second download as ``BillingItems (1).csv``: its rows are the same items, read
    once; each copy file is reported once (flagged ``copy_of_another_file``). A repeated item whose
    values differ is not a copy: ``rules`` holds it as a duplicate.
    """
    copies = pd.Series(False, index=raw.index)
    keys = raw["_item_key"]
    repeated = keys.duplicated(keep=False) & (_text(raw, "item_id") != "")
    if not repeated.any():
        return copies, []
    rows = raw.loc[repeated]
    data = [c for c in rows.columns if not str(c).startswith("_")]
    prints = rows[data].map(str).agg("\x1f".join, axis=1)
    first: dict[tuple[str, str], str] = {}
    pairs: dict[tuple[str, str], int] = {}
    # the original is the file with the plainer name: "BillingItems.csv" before "BillingItems (1).csv"
    order = sorted(
        range(len(rows)), key=lambda i: (len(str(rows["_file"].iat[i])), str(rows["_file"].iat[i]), i)
    )
    for idx, key, fingerprint, file, sheet in (
        (rows.index[i], rows["_item_key"].iat[i], prints.iat[i], rows["_file"].iat[i], rows["_sheet"].iat[i])
        for i in order
    ):
        place = _place(file, sheet)
        seen = first.setdefault((str(key), str(fingerprint)), place)
        if seen != place:
            copies[idx] = True
            pairs[(place, seen)] = pairs.get((place, seen), 0) + 1
    issues = [
        Issue(
            "",
            "",
            COPY_OF_ANOTHER_FILE,
            "flagged",
            f"{copy} repeats {count} row(s) of {original} exactly: each item is read once, from {original}",
            copy.split(", sheet ")[0],
            copy.split(", sheet ")[1] if ", sheet " in copy else "",
        )
        for (copy, original), count in pairs.items()
    ]
    return copies, issues

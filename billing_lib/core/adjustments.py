"""The analyst's decisions about single items, kept in ``adjustments.csv`` beside the month's inputs.

Each row names an item (``source_table`` and ``item_id``, as in ``exceptions.csv``) and one action:

- ``set_po``: give the item a PO (``value``); the PO checks then run on it as on any other;
- ``release``: invoice an item the PO checks held (a PO of another customer, a missing or
  over-budget PO) as it is;
- ``leave_out``: leave the item out of this run (counted as skipped, "left out by the analyst").

Every row carries a ``note`` (why), ``who`` and ``when``. ``pipeline.prepare`` applies the file on
every run (``billing invoice``, ``check``, ``batch`` and the app): ``set_po`` and ``leave_out`` before
the PO checks, ``release`` after them. A row that cannot be applied (no such item in the month, an
item held for a reason a release cannot fix) becomes a flag naming the file and row, never a silent
skip; a malformed row stops the run with an ``InputError``. The manifest lists every row and what
became of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from billing_lib.core.rules import Prepared, po_key
from billing_lib.domain.errors import InputError
from billing_lib.domain.identity import CHARGE_KINDS
from billing_lib.domain.reasons import Reason
from billing_lib.domain.records import MISSING_PO, OVER_BUDGET, PO_CUSTOMER_MISMATCH, Issue
from billing_lib.domain.text import FORMULA_START

FILE_NAME = "adjustments.csv"
COLUMNS = ("source_table", "item_id", "action", "value", "note", "who", "when")
SET_PO, RELEASE, LEAVE_OUT = "set_po", "release", "leave_out"
ACTIONS = {
    SET_PO: "give the item a PO",
    RELEASE: "release the held item",
    LEAVE_OUT: "leave the item out",
}
# the held reasons that are a judgement, not broken data: the analyst may invoice such an item as it is
RELEASABLE = (PO_CUSTOMER_MISMATCH, MISSING_PO, OVER_BUDGET)
ADJUSTMENT = Reason.ADJUSTMENT.value  # reason of the flags raised for rows that could not be applied
LEFT_OUT = "left_out"  # the skipped count of the items left out

# outcomes recorded in the manifest
APPLIED, ALREADY_INVOICED, NOT_FOUND, NOT_RELEASABLE = (
    "applied",
    "already invoiced",
    "not found",
    "not releasable",
)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One decision about one item: a row of ``adjustments.csv`` (``row`` is its line number there)."""

    source_table: str
    item_id: str
    action: str
    value: str = ""
    note: str = ""
    who: str = ""
    when: str = ""
    row: int = 0
    outcome: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.source_table, self.item_id

    def as_row(self) -> dict[str, str]:
        return {c: str(getattr(self, c)) for c in COLUMNS}


def path_beside(inputs: Path) -> Path:
    """The adjustments file of an inputs folder (or of the folder of an inputs workbook)."""
    inputs = Path(inputs)
    return (inputs if inputs.is_dir() or not inputs.suffix else inputs.parent) / FILE_NAME


def _problem(path: Path, row: int, column: str, value: str, what: str) -> InputError:
    return InputError(f"{path.name}, row {row}, column {column}: {what} (value {value!r})")


def read(path: Path) -> list[Adjustment]:
    """Every row of the file, checked; ``[]`` when there is none. ``InputError`` names a malformed row."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the adjustments file cannot be read ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("source_table", "item_id", "action") if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path.name}: the adjustments file has no column {', '.join(missing)}")
    out = []
    for line, raw in enumerate(reader, start=2):
        cells = {c: _unquoted((raw.get(c) or "").strip()) for c in COLUMNS}
        if not any(cells.values()):
            continue
        for column in ("source_table", "item_id"):
            if not cells[column]:
                raise _problem(path, line, column, cells[column], "every adjustment names its item")
        if cells["action"] not in ACTIONS:
            raise _problem(
                path, line, "action", cells["action"], f"the action is one of {', '.join(ACTIONS)}"
            )
        if cells["action"] == SET_PO and not cells["value"]:
            raise _problem(path, line, "value", cells["value"], "set_po needs the PO number")
        out.append(Adjustment(**cells, row=line))
    return out


def _unquoted(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in FORMULA_START else value


def _quoted(value: str) -> str:
    """Text that a spreadsheet opening the file shows as text, never runs as a formula."""
    return "'" + value if value[:1] in FORMULA_START else value


def write(path: Path, adjustments: Iterable[Adjustment]) -> None:
    """The whole file, replaced atomically (a temporary file in the same folder, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for adjustment in adjustments:
        writer.writerow({k: _quoted(v) for k, v in adjustment.as_row().items()})
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
    os.replace(tmp, path)


def add(path: Path, adjustment: Adjustment) -> list[Adjustment]:
    """Record a decision: it replaces an earlier one of the same kind about the same item."""
    if adjustment.action not in ACTIONS:
        raise InputError(f"unknown adjustment {adjustment.action!r}: one of {', '.join(ACTIONS)}")
    if adjustment.action == SET_PO and not adjustment.value.strip():
        raise InputError("giving an item a PO needs the PO number")
    if not adjustment.note.strip():
        raise InputError("every adjustment needs a note saying why")
    stamped = replace(
        adjustment,
        when=adjustment.when or dt.datetime.now().isoformat(timespec="seconds"),
        who=adjustment.who or os.environ.get("USER", ""),
    )
    kept = [a for a in read(path) if (a.key, a.action) != (stamped.key, stamped.action)]
    write(path, [*kept, stamped])
    return read(path)


def remove(path: Path, source_table: str, item_id: str, action: str) -> list[Adjustment]:
    """Take a decision back."""
    kept = [a for a in read(path) if (a.key, a.action) != ((source_table, item_id), action)]
    write(path, kept)
    return kept


def _keys(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(list(zip(frame["source_table"], frame["item_id"], strict=True)), index=frame.index)


def _flag(adjustment: Adjustment, path: Path, message: str) -> Issue:
    return Issue(
        adjustment.source_table,
        adjustment.item_id,
        ADJUSTMENT,
        "flagged",
        f"{path.name}, row {adjustment.row}: {message}; the adjustment was not applied",
        path.name,
        "",
        adjustment.row,
        "item_id",
        adjustment.item_id,
    )


def _invoiced(adjustment: Adjustment, registered: set[str]) -> bool:
    """Whether the register holds the adjustment's item (it records items as ``kind:id``, ``identity``)."""
    kinds = {"time_entries": ("time_entry",), **{t: (k,) for t, k in CHARGE_KINDS.items()}}
    wanted = kinds.get(adjustment.source_table)
    for key in registered:
        kind, _, item_id = key.partition(":")
        if item_id == adjustment.item_id and (wanted is None or kind in wanted):
            return True
    return False


def apply_before_checks(
    prep: Prepared, adjustments: list[Adjustment], registered: set[str], path: Path
) -> tuple[Prepared, list[Adjustment]]:
    """``set_po`` and ``leave_out`` on the prepared items: the month they make (a new ``Prepared``, the one
    given is not changed) and every adjustment with its outcome."""
    if not adjustments:
        return prep, []
    items, held, issues, skipped = prep.items.copy(), prep.held, list(prep.issues), prep.skipped.copy()
    item_keys, held_keys = _keys(items), _keys(held)
    done: list[Adjustment] = []
    for a in adjustments:
        if a.action == RELEASE:
            done.append(a)  # after the PO checks
            continue
        on_items, on_held = item_keys == a.key, held_keys == a.key
        if not on_items.any() and not on_held.any():
            outcome = ALREADY_INVOICED if _invoiced(a, registered) else NOT_FOUND
            if outcome == NOT_FOUND:
                issues.append(_flag(a, path, f"no billable item {a.item_id} in {a.source_table}"))
            done.append(replace(a, outcome=outcome))
            continue
        if a.action == SET_PO:
            if not on_items.any():
                reason = str(held.loc[on_held, "reason"].iloc[0])
                issues.append(_flag(a, path, f"item {a.item_id} is held ({reason}); fix its data first"))
                done.append(replace(a, outcome=NOT_RELEASABLE))
                continue
            items.loc[on_items, "po_number"] = a.value
            items.loc[on_items, "po_key"] = po_key(a.value)
            items.loc[on_items, "po_source"] = "adjustment"
        else:  # leave out: not billed this run, whatever its state
            items = items[~on_items].reset_index(drop=True)
            held = held[~on_held].reset_index(drop=True)
            item_keys, held_keys = _keys(items), _keys(held)
            issues = [i for i in issues if (i.source_table, i.item_id) != a.key]
            skipped[LEFT_OUT] += int(on_items.sum() + on_held.sum())
        done.append(replace(a, outcome=APPLIED))
    return replace(prep, items=items, held=held, issues=issues, skipped=skipped), done


def apply_after_checks(
    prep: Prepared, adjustments: list[Adjustment], path: Path
) -> tuple[Prepared, list[Adjustment]]:
    """``release`` of held items back onto the invoices, their hold becoming a flag: the month this makes
    (a new ``Prepared``) and every adjustment with its outcome."""
    items, held, issues = prep.items, prep.held, list(prep.issues)
    done: list[Adjustment] = []
    for a in adjustments:
        if a.action != RELEASE or a.outcome:
            done.append(a)
            continue
        on_held = _keys(held) == a.key
        if not on_held.any():
            if (_keys(items) == a.key).any():
                done.append(replace(a, outcome=APPLIED))  # not held (any more): nothing to release
                continue
            issues.append(_flag(a, path, f"no held item {a.item_id} in {a.source_table}"))
            done.append(replace(a, outcome=NOT_FOUND))
            continue
        reasons = set(held.loc[on_held, "reason"])
        if not reasons <= set(RELEASABLE):
            text = f"item {a.item_id} is held ({', '.join(sorted(reasons))}), which a release cannot fix"
            issues.append(_flag(a, path, text))
            done.append(replace(a, outcome=NOT_RELEASABLE))
            continue
        back = held[on_held].drop(columns=["reason"])
        held = held[~on_held].reset_index(drop=True)
        items = pd.concat([items, back], ignore_index=True)
        issues = [
            replace(i, action="flagged", message=f"{i.message} (released by the analyst: {a.note})")
            if (i.source_table, i.item_id) == a.key and i.action == "held"
            else i
            for i in issues
        ]
        done.append(replace(a, outcome=APPLIED))
    return replace(prep, items=items, held=held, issues=issues, adjustments=done), done


def manifest_entry(path: Path, adjustments: list[Adjustment]) -> dict[str, object]:
    """What ``manifest.json`` says about the adjustments of a run."""
    if not path.exists():
        return {"file": "", "rows": []}
    return {
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": [{**asdict(a)} for a in adjustments],
    }


__all__ = ["ACTIONS", "FILE_NAME", "Adjustment", "add", "path_beside", "read", "remove", "write"]

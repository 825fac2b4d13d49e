"""Which row of a sheet is the heading row, and which column is which canonical column (``schema.key``)."""

from __future__ import annotations

from typing import Any

from billing_lib.domain import schema
from billing_lib.domain.errors import InputError
from billing_lib.domain.records import (
    where,
)
from billing_lib.io.raw_sheets import RawSheet

HEADER_SCAN_ROWS = 30


# --- heading row -------------------------------------------------------------------------------


def _row_mapping(row: list[Any], aliases: dict[str, str]) -> tuple[dict[int, str], dict[int, str]]:
    """Column index -> canonical name for the row's headings, and the columns naming a field again."""
    mapping: dict[int, str] = {}
    again: dict[int, str] = {}
    for j, cell in enumerate(row):
        if isinstance(cell, str) and cell.strip():
            name = aliases.get(schema.key(cell))
            if name is not None and name not in mapping.values():
                mapping[j] = name
            elif name is not None:
                again[j] = name
    return mapping, again


def _missing_columns(spec: schema.TableSpec, present: set[str]) -> list[str]:
    """The required columns (and one-of groups) the heading row lacks, as the message names them."""
    missing = [
        f"{c.name} (e.g. {' or '.join(c.aliases[:2])})" if c.aliases else c.name
        for c in spec.columns
        if c.required and c.name not in present
    ]
    return missing + [" or ".join(group) for group in spec.one_of if not present.intersection(group)]


def find_header(
    raw: RawSheet, spec: schema.TableSpec, repeated: dict[int, str] | None = None
) -> tuple[int, dict[int, str]]:
    """Index of the heading row (title rows above it are skipped) and column index -> canonical name.

    A second column standing for a field already mapped goes into ``repeated`` (column index -> name).
    """
    aliases = spec.alias_map()
    best: tuple[int, int, dict[int, str], dict[int, str]] = (0, -1, {}, {})
    for i, row in enumerate(raw.rows[:HEADER_SCAN_ROWS]):
        mapping, again = _row_mapping(row, aliases)
        if len(mapping) > best[0]:
            best = (len(mapping), i, mapping, again)
    score, index, mapping, again = best
    if repeated is not None:
        repeated.update(again)
    label = where(raw.file.name, raw.sheet, None)
    if score == 0:
        raise InputError(
            f"{label}: no heading row found in the first {HEADER_SCAN_ROWS} rows for table {spec.name} "
            f"(expected headings such as {', '.join(c.name for c in spec.columns[:4])})"
        )
    missing = _missing_columns(spec, set(mapping.values()))
    if missing:
        seen = [str(c) for c in raw.rows[index] if str(c).strip()]
        raise InputError(
            f"{label}: table {spec.name} is missing the required column(s) {', '.join(missing)} "
            f"(heading row {raw.first_row + index} has: {', '.join(seen)})"
        )
    return index, mapping

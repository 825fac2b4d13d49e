"""Helpers the input-reading tests share: writing CSV text, comparing frames."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd

from billing_lib.domain import schema


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(textwrap.dedent(text).strip("\n").encode(encoding) + b"\n")
    return path


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, object]]:
    """Rows of the given columns with every kind of missing value as None (NaN != NaN)."""
    out = frame[columns].astype(object)
    return out.where(out.notna(), None).to_dict("records")


def canonical(spec: schema.TableSpec) -> list[str]:
    return [c.name for c in spec.columns]


D = Decimal

GOOD_ITEMS = """
    id,itemDate,companyID,extendedPrice
    1,2026-10-05,101,10.00
"""

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

"""A billing period, ``YYYY-MM``."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from billing_lib.domain.errors import UsageError

EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's 1900 date system (serial 60 is the phantom 1900-02-29)

FIRST_YEAR, LAST_YEAR = 1900, 2199  # the dates the inputs may hold (inputs.FIRST_YEAR, inputs.LAST_YEAR)


@dataclass(frozen=True, slots=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(text))
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UsageError(f"period {text!r} is not of the form YYYY-MM (for example 2026-10)")
        if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise UsageError(f"period {text!r}: the year must be from {FIRST_YEAR} to {LAST_YEAR}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.label

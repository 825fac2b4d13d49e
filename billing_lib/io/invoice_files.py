"""SPEC section 5: a run's invoice workbooks, one file per invoice, in two processes when the month
is large; all or nothing (the files this call wrote are removed when anything fails).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from billing_lib.core.consolidate import InvoiceSet
from billing_lib.domain.errors import OutputError
from billing_lib.io.children import run_in_workers
from billing_lib.io.excel_cells import write_atomically
from billing_lib.io.filenames import output_path
from billing_lib.io.invoice_workbook import as_template, workbook_bytes
from billing_lib.io.snapshot import to_json
from billing_lib.io.xlsx_template import Template

PARALLEL_MIN_ITEMS = 5_000  # below this a second process costs more than it saves


def invoice_paths(folder: Path, invoice_numbers: Iterable[str]) -> list[Path]:
    """Where each invoice's workbook goes; ``OutputError`` when two numbers share a file name."""
    paths = []
    seen: dict[str, str] = {}
    for number in invoice_numbers:
        path = output_path(folder, str(number))
        key = path.name.casefold()  # Windows and macOS folders ignore case
        if key in seen:
            raise OutputError(
                f"invoice numbers {seen[key]!r} and {number!r} would both be written to {path.name}"
            )
        seen[key] = str(number)
        paths.append(path)
    return paths


def _write_chunk(
    part: InvoiceSet, template: Template, paths: Mapping[str, Path], draft: bool = False
) -> dict[str, str]:
    """Write the part's workbooks; each invoice's document as the register keeps it (``snapshot``)."""
    documents = {}
    for record in part.records():
        write_atomically(paths[record.invoice_number], workbook_bytes(record, template, draft))
        documents[record.invoice_number] = to_json(record)
    return documents


def invoice_chunks(invoice_set: InvoiceSet, target_items: int) -> list[InvoiceSet]:
    """The set cut, between invoices, into parts of about ``target_items`` items each."""
    invoices = invoice_set.invoices
    counts = invoices["item_count"].to_numpy(dtype=np.int64)
    part_of = (np.cumsum(counts) - counts) // max(target_items, 1)
    numbers = invoices["invoice_number"].astype("str").to_numpy(dtype=object)
    item_part = invoice_set.items["invoice_number"].map(dict(zip(numbers, part_of, strict=True))).to_numpy()
    no_excluded = invoice_set.excluded.iloc[:0]
    parts = []
    item_groups = dict(tuple(invoice_set.items.groupby(item_part, sort=True)))
    for key, heads in invoices.groupby(part_of, sort=True):
        parts.append(
            InvoiceSet(
                invoice_set.period,
                heads,
                item_groups.get(key, invoice_set.items.iloc[:0]),
                no_excluded,
                invoice_set.companies,
                invoice_set.entities,
                invoice_set.invoice_date,
            )
        )
    return parts


def _write_parallel(
    parts: list[InvoiceSet],
    template: Template,
    paths: Mapping[str, Path],
    workers: int,
    bar: Any,
    documents: dict[str, str],
    draft: bool = False,
) -> set[int]:
    """Write the parts in worker processes; the indexes of the parts written (all, unless the pool broke)."""

    def wrote(written: dict[str, str]) -> None:
        documents.update(written)
        bar.update(len(written))

    calls = [
        (part, template, {n: paths[n] for n in part.invoices["invoice_number"]}, draft) for part in parts
    ]
    return run_in_workers(_write_chunk, calls, workers, "invoice writer", wrote)


def write_invoices(
    invoice_set: InvoiceSet,
    folder: Path,
    *,
    template: Path | None = None,
    workers: int = 2,
    progress: bool = False,
    documents: dict[str, str] | None = None,
    draft: bool = False,
) -> list[Path]:
    """Write ``folder/<safe invoice number>.xlsx`` for every invoice of the set; the paths in the set's order.
    ``documents``, when given, receives each invoice's document as the register keeps it.

    Months of ``PARALLEL_MIN_ITEMS`` items or more are written by ``workers`` processes, smaller ones
    in this process. If anything fails, the files this call wrote are removed before the error
    (``OutputError`` for file problems) is raised.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the invoice folder {folder}: {exc.strerror or exc}") from exc
    tpl = as_template(template)
    numbers = invoice_set.invoices["invoice_number"].astype("str").tolist()
    paths = invoice_paths(folder, numbers)
    by_number = dict(zip(numbers, paths, strict=True))
    before = {path: _identity(path) for path in paths}
    n_items = len(invoice_set.items)
    parallel = workers > 1 and n_items >= PARALLEL_MIN_ITEMS and len(numbers) > 1
    target = max(1_000, math.ceil(n_items / (workers * 6))) if parallel else 5_000
    bar = _progress_bar(len(numbers), progress)
    documents = {} if documents is None else documents
    try:
        parts = invoice_chunks(invoice_set, target) if numbers else []
        done = (
            _write_parallel(parts, tpl, by_number, workers, bar, documents, draft)
            if parallel and len(parts) > 1
            else set()
        )
        for i, part in enumerate(parts):
            if i not in done:
                written = _write_chunk(part, tpl, by_number, draft)
                documents.update(written)
                bar.update(len(written))
    except BaseException:
        for path in paths:
            if _identity(path) != before[path]:
                path.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    return paths


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (inode and modification time), None when there is none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="invoices", unit="invoice")

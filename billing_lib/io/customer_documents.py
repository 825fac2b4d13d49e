"""The documents a customer receives, for every invoice of a run: ``<number>.pdf`` and ``<number>.xml``.

``write_invoice_documents`` writes the three documents of one invoice record (reprint, a void's
credit note). ``einvoice_issues`` names, before anything is written, each customer whose invoices cannot get a
valid e-invoice and what is missing (an ``einvoice_incomplete`` flag in the checklist and
``exceptions.csv``); those invoices get their PDF (and workbook) but no XML. ``write_documents``
writes the files, in ``workers`` processes when the month is large (PDF layout is the slow part).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from billing_lib.core.consolidate import InvoiceSet
from billing_lib.domain.errors import OutputError
from billing_lib.domain.parties import Parties, PartyBook
from billing_lib.domain.records import EINVOICE_INCOMPLETE, Invoice, Issue
from billing_lib.io.children import run_in_workers
from billing_lib.io.filenames import output_path
from billing_lib.io.invoice_files import PARALLEL_MIN_ITEMS, invoice_chunks
from billing_lib.io.pdf import write_invoice_pdf
from billing_lib.io.ubl import BillingReference, head_gaps, write_invoice_ubl


def party_book(invoice_set: InvoiceSet) -> PartyBook:
    return PartyBook(invoice_set.companies, invoice_set.entities)


def invoice_gaps(invoice_set: InvoiceSet, book: PartyBook | None = None) -> dict[str, list[str]]:
    """Invoice number -> what its e-invoice lacks, for the invoices that cannot get one."""
    return invoice_gaps_of(invoice_set.invoices, book or party_book(invoice_set))


def invoice_gaps_of(heads: pd.DataFrame, book: PartyBook) -> dict[str, list[str]]:
    """``invoice_gaps`` of invoice heads; invoices alike in what the rules look at are checked once."""
    out: dict[str, list[str]] = {}
    seen: dict[tuple[object, ...], list[str]] = {}
    for number, customer, entity, name, rate, pos, method, key, currency in zip(
        heads["invoice_number"], heads["customer_id"], heads["billing_entity"], heads["customer_name"],
        heads["tax_rate"], heads["po_number"], heads["method"], heads["group_key"], heads["currency"],
        strict=True,
    ):  # fmt: skip
        po_count = len([p for p in _text(pos).split("; ") if p])
        method, key = _text(method), _text(key)
        alike = (
            customer,
            entity,
            name,
            rate,
            po_count == 1,
            method == "buyer_reference" and bool(key),
            currency,
        )
        if alike not in seen:
            parties = book.parties(str(customer), _text(entity), _text(name))
            rate = rate if isinstance(rate, Decimal) else Decimal(str(rate))
            seen[alike] = head_gaps(parties, rate, po_count, method, key, str(currency))
        if seen[alike]:
            out[str(number)] = seen[alike]
    return out


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def customer_einvoice_issues(
    items: pd.DataFrame, companies: pd.DataFrame, entities: pd.DataFrame
) -> list[Issue]:
    """``einvoice_issues`` before consolidation (``billing check``): what each billed customer lacks.

    The one gap that depends on how items are grouped (no single PO and no buyer reference) is
    left to ``einvoice_issues`` of the invoices.
    """
    if items.empty:
        return []
    heads = items.drop_duplicates(["customer_id", "billing_entity", "currency"])[
        ["customer_id", "billing_entity", "currency", "customer_name"]
    ].reset_index(drop=True)
    rates = {
        str(c): r
        for c, r in zip(companies.get("customer_id", []), companies.get("tax_rate", []), strict=True)
    }
    heads = heads.assign(
        invoice_number=[
            f"{c}/{e}/{cur}"
            for c, e, cur in zip(
                heads["customer_id"], heads["billing_entity"], heads["currency"], strict=True
            )
        ],
        tax_rate=pd.Series(
            [
                rates.get(str(c)) if rates.get(str(c)) is not None else Decimal(0)
                for c in heads["customer_id"]
            ],
            dtype=object,
        ),
        po_number="(one)",
        method="",
        group_key="",
    )
    return _issues(
        heads, invoice_gaps_of(heads, PartyBook(companies, entities)), companies, with_numbers=False
    )


def einvoice_issues(invoice_set: InvoiceSet, book: PartyBook | None = None) -> list[Issue]:
    """One flag per customer whose invoices get no e-invoice, naming the missing fields."""
    gaps = invoice_gaps(invoice_set, book)
    return _issues(invoice_set.invoices, gaps, invoice_set.companies) if gaps else []


def _issues(
    frame: pd.DataFrame, gaps: dict[str, list[str]], companies: pd.DataFrame, *, with_numbers: bool = True
) -> list[Issue]:
    heads = frame.set_index(frame["invoice_number"].astype("str"))
    per_customer: dict[str, tuple[str, list[str], dict[str, None]]] = {}
    for number, missing in gaps.items():
        customer = str(heads.at[number, "customer_id"])
        name = _text(heads.at[number, "customer_name"])
        entry = per_customer.setdefault(customer, (name, [], {}))
        entry[1].append(number)
        entry[2].update(dict.fromkeys(missing))
    issues = []
    for customer, (name, numbers, wanted) in per_customer.items():
        where = _company_row(companies, customer)
        fields = list(wanted)
        count = f"{len(numbers)} invoice{'s' if len(numbers) != 1 else ''}"
        listed = (
            f" ({count}: {', '.join(numbers[:3])}{' …' if len(numbers) > 3 else ''})" if with_numbers else ""
        )
        issues.append(
            Issue(
                source_table="companies",
                item_id=customer,
                reason=EINVOICE_INCOMPLETE,
                action="flagged",
                message=(
                    f"customer {customer} {name} gets no e-invoice{listed}: missing {'; '.join(fields)}; "
                    "its PDF and workbook are written"
                ),
                file=where[0],
                sheet=where[1],
                row=where[2],
                column=", ".join(f.split(" (")[0] for f in fields),
            )
        )
    return issues


def _company_row(companies: pd.DataFrame, customer: str) -> tuple[str, str, int | None]:
    if companies is None or companies.empty or "customer_id" not in companies:
        return "", "", None
    match = companies[companies["customer_id"].astype("str") == customer]
    if match.empty:
        return "", "", None
    row = match.iloc[0]
    file = str(row["_file"]) if "_file" in match and isinstance(row["_file"], str) else ""
    sheet = str(row["_sheet"]) if "_sheet" in match and isinstance(row["_sheet"], str) else ""
    number = row["_row"] if "_row" in match else None
    return file, sheet, int(number) if number is not None and number == number else None


@dataclass(frozen=True)
class DocumentOptions:
    draft: bool = False
    paper: str = "A4"
    template_dir: Path | None = None
    pdf: bool = True
    xml: bool = True


def _write_chunk(part: InvoiceSet, paths: Mapping[str, tuple[Path, Path]], options: DocumentOptions) -> int:
    book = party_book(part)
    heads = part.invoices
    entities = dict(
        zip(heads["invoice_number"].astype("str"), heads["billing_entity"].map(_text), strict=True)
    )
    for record in part.records():
        parties = record.parties or book.parties(
            record.customer_id, entities[record.invoice_number], record.customer.name
        )
        pdf_path, xml_path = paths[record.invoice_number]
        if options.pdf:
            write_invoice_pdf(
                record, parties, pdf_path, draft=options.draft, paper=options.paper,
                template_dir=options.template_dir,
            )  # fmt: skip
        if options.xml:
            write_invoice_ubl(record, parties, xml_path)
    return len(part.invoices)


def _write_parallel(
    parts: list[InvoiceSet], paths: Mapping[str, tuple[Path, Path]], options: DocumentOptions, workers: int
) -> set[int]:
    calls = [(part, {n: paths[n] for n in part.invoices["invoice_number"]}, options) for part in parts]
    return run_in_workers(_write_chunk, calls, workers, "document writer")


def document_paths(folder: Path, numbers: list[str]) -> dict[str, tuple[Path, Path]]:
    return {n: (output_path(folder, n, ".pdf"), output_path(folder, n, ".xml")) for n in numbers}


def write_documents(
    invoice_set: InvoiceSet,
    folder: Path,
    options: DocumentOptions | None = None,
    *,
    workers: int = 2,
    parallel_min_items: int = PARALLEL_MIN_ITEMS,
) -> dict[str, Any]:
    """Write the PDF and (where it can be valid) the UBL XML of every invoice; what was written.

    If anything fails, the files this call wrote are removed before the error is raised.
    """
    options = options or DocumentOptions()
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the invoice folder {folder}: {exc.strerror or exc}") from exc
    numbers = invoice_set.invoices["invoice_number"].astype("str").tolist()
    paths = document_paths(folder, numbers)
    existed = {p for pair in paths.values() for p in pair if p.exists()}
    n_items = int(invoice_set.invoices["item_count"].sum()) if numbers else 0
    parallel = workers > 1 and n_items >= parallel_min_items and len(numbers) > 1
    target = max(200, math.ceil(n_items / (workers * 8))) if parallel else 5_000
    try:
        parts = invoice_chunks(invoice_set, target) if numbers else []
        done = _write_parallel(parts, paths, options, workers) if parallel and len(parts) > 1 else set()
        for i, part in enumerate(parts):
            if i not in done:
                _write_chunk(part, {n: paths[n] for n in part.invoices["invoice_number"]}, options)
    except BaseException:
        for pair in paths.values():
            for path in pair:
                if path not in existed:
                    path.unlink(missing_ok=True)
        raise
    pdfs = [p for p, _ in paths.values() if p.exists()]
    xmls = [x for _, x in paths.values() if x.exists()]
    return {
        "pdf": len(pdfs),
        "xml": len(xmls),
        "without_xml": [n for n, (_, x) in paths.items() if not x.exists()],
    }


def write_invoice_documents(
    invoice: Invoice,
    parties: Parties,
    folder: Path,
    *,
    draft: bool = False,
    billing_reference: BillingReference | None = None,
    workbook_template: Path | None = None,
    pdf_template: Path | None = None,
    paper: str = "A4",
) -> dict[str, Path | None]:
    """The three documents of one invoice into ``folder``: ``<number>.xlsx``, ``.pdf`` and ``.xml``.

    For ``billing reprint`` and a void's credit note. ``billing_reference`` is (number, issue date) of
    the invoice a credit note credits: the PDF names it, the XML carries it in ``BillingReference``.
    The XML is None (not written) when the parties lack what a valid e-invoice needs
    (``ubl.document_gaps`` says what). The same record and parties always give the same bytes.
    """
    from billing_lib.io.invoice_workbook import write_invoice_workbook

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from exc
    number = invoice.invoice_number
    xlsx, pdf, xml = (output_path(folder, number, suffix) for suffix in (".xlsx", ".pdf", ".xml"))
    write_invoice_workbook(invoice, xlsx, workbook_template, draft=draft)
    write_invoice_pdf(
        invoice, parties, pdf, draft=draft, paper=paper, template_dir=pdf_template, credited=billing_reference
    )
    wrote_xml = write_invoice_ubl(invoice, parties, xml, billing_reference=billing_reference)
    return {"xlsx": xlsx, "pdf": pdf, "xml": xml if wrote_xml else None}

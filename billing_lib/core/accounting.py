"""SPEC section 5, the accounting hand-off: issued invoices and credit notes as the ledgers' import files.

Pure part: documents (an issued invoice or credit note with its lines) -> the rows of QuickBooks
Online's invoice (and credit note) import and Xero's sales invoice import template, split into files of
at most 100 (QuickBooks) and 500 (Xero) documents. ``accounting_ledger`` keeps the register side (which
document went to which file, so each is exported once).

The formats, as the importers read them:
- QuickBooks Online, Gear > Import data > Invoices: SPEC section 5's headings (``InvoiceNo, Customer,
  InvoiceDate, DueDate, Terms, Location, Memo, Item(Product/Service), ItemDescription, ItemQuantity,
  ItemRate, ItemAmount, ItemTaxCode, ItemTaxAmount, ServiceDate, Currency``; its sample file stars the
  required ones, and its import screen maps headings to fields), one row per line, lines of one invoice share the number; at most 100
  invoices an import ("You can upload up to 100 customer invoices at a time", synder.com/blog/how-to-
  import-invoices-into-quickbooks; Intuit, "Import invoices in batches", quickbooks.intuit.com/learn-
  support/en-ca/help-articles/import-invoices-in-batches/01/338729). The date format is picked on the
  import screen; amounts are plain numbers without currency signs or thousands separators. A QuickBooks
  invoice cannot total below zero: credit notes go to QuickBooks' own "Import credit notes" tool
  (Intuit, "How to import credit notes", quickbooks.intuit.com/learn-support/en-us/help-articles/how-to-
  import-credit-notes/00/332855), with positive amounts, in ``quickbooks_credit_notes.csv``. QuickBooks
  takes an invoice's currency from its customer (zed-systems.com kb a266), so no file mixes currencies.
- Xero, Business > Invoices > Import: the columns of its ``SalesInvoiceTemplate.csv`` in order (starred
  ones required), dates as ``DD/MM/YYYY`` in the UK/AU/NZ regions, at most 500 invoices a file ("If you
  are importing more than 500 invoices you will need to split the file", Xero's import guide as quoted at
  online.flippingbook.com/view/399081/31); ``TaxType`` is the tax rate's display name in Xero, e.g.
  ``20% (VAT on Income)``; a document whose amounts are negative is imported as a credit note
  ("Xero will automatically recognise credits as they are imported as negative values",
  workbenchdoc.atlassian.net/wiki/spaces/XI/pages/20316164). ``TaxAmount`` is given on every line so
  Xero's tax equals ours (computed on the invoice net, rounded once) rather than its own per-line sum.

Amounts are written from integer minor units; a line's quantity and unit price are written only when
they multiply to its amount exactly, otherwise the line is quantity 1 at its amount (both importers
compute quantity x rate). Text from the inputs is neutralised against spreadsheet formulas
(``domain.text.csv_safe``); commas and quotes are kept, the csv module quotes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import pandas as pd

from billing_lib.domain.errors import OutputError
from billing_lib.domain.money import format_minor, to_minor
from billing_lib.domain.text import csv_safe

QUICKBOOKS = "quickbooks"
XERO = "xero"
LEDGERS = (QUICKBOOKS, XERO)
QUICKBOOKS_LIMIT = 100  # invoices (or credit notes) a QuickBooks Online import takes
XERO_LIMIT = 500  # invoices a Xero import file takes

QUICKBOOKS_INVOICE_COLUMNS = (
    "InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Location", "Memo", "Item(Product/Service)",
    "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount", "ItemTaxCode", "ItemTaxAmount", "ServiceDate",
    "Currency",
)  # fmt: skip
QUICKBOOKS_CREDIT_NOTE_COLUMNS = (
    "CreditNoteNo", "Customer", "CreditNoteDate", "Location", "Memo", "Item(Product/Service)", "ItemDescription",
    "ItemQuantity", "ItemRate", "ItemAmount", "ItemTaxCode", "ItemTaxAmount", "ServiceDate", "Currency",
)  # fmt: skip
XERO_COLUMNS = (
    "ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4",
    "POCity", "PORegion", "POPostalCode", "POCountry", "InvoiceNumber", "Reference", "InvoiceDate", "DueDate",
    "Total", "InventoryItemCode", "Description", "Quantity", "UnitAmount", "Discount", "AccountCode",
    "TaxType", "TaxAmount", "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency",
    "BrandingTheme",
)  # fmt: skip

# the columns each importer requires (its template marks them with a star; the star itself is optional:
# "ContactName imports exactly the same as *ContactName", entryrocket.com's Xero CSV import guide, tested
# against Xero's live importer, 2026). The headings are SPEC section 5's, without stars.
QUICKBOOKS_REQUIRED = frozenset({"InvoiceNo", "Customer", "InvoiceDate", "DueDate", "ItemAmount"})
QUICKBOOKS_CREDIT_NOTE_REQUIRED = frozenset({"CreditNoteNo", "Customer", "CreditNoteDate", "ItemAmount"})
XERO_REQUIRED = frozenset(
    {"ContactName", "InvoiceNumber", "InvoiceDate", "DueDate", "Description", "Quantity", "UnitAmount",
     "AccountCode", "TaxType"}
)  # fmt: skip

DEFAULT_ACCOUNT_CODE = "200"  # "Sales" in Xero's default charts of accounts
DATE_FORMATS = {"DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYY-MM-DD": "%Y-%m-%d"}
DEFAULT_DATE_FORMAT = "DD/MM/YYYY"
DEFAULT_TERMS_DAYS = 30
_QUICKBOOKS_TERMS = {
    0: "Due on receipt",
    15: "Net 15",
    30: "Net 30",
    60: "Net 60",
}  # QuickBooks' standard terms
_MAX_PLACES = 4  # quantities and unit prices both importers take


# --- documents ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line of an issued document, as the ledger gets it (amount in the document's minor units)."""

    description: str
    kind: str
    billing_code_id: str
    billing_code: str
    po_number: str
    quantity: Decimal
    unit_price: Decimal | None
    amount_minor: int
    service_date: dt.date | None


@dataclass(frozen=True, slots=True)
class Contact:
    email: str = ""
    address: str = ""
    address2: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class LedgerDocument:
    """An issued invoice or credit note: its number in the files, what it is, and its lines.

    ``source_invoice`` is the invoice it is, or the invoice it credits. Amounts carry their sign as
    issued: a credit note's are negative.
    """

    number: str
    source_invoice: str
    period: str
    customer_id: str
    customer_name: str
    issue_date: dt.date
    due_date: dt.date
    terms_days: int
    currency: str
    po_numbers: tuple[str, ...]
    tax_rate: Decimal
    vat_category: str
    net_minor: int
    tax_minor: int
    lines: tuple[LedgerLine, ...]
    contact: Contact = Contact()
    memo: str = ""

    @property
    def is_credit_note(self) -> bool:
        return self.net_minor + self.tax_minor < 0

    @property
    def document_type(self) -> str:
        return "credit_note" if self.is_credit_note else "invoice"


def terms_days(text: object) -> int | None:
    """The days of a payment terms text (``30``, ``30 days``, ``Net 14``), or None when it names none."""
    match = re.search(r"\d+", "" if text is None or text != text else str(text))
    return int(match.group()) if match else None


def line_tax(document: LedgerDocument) -> list[int]:
    """The document's tax spread over its lines in proportion to their amounts (largest remainder), so the
    lines' tax adds up to the document's exactly."""
    amounts = [line.amount_minor for line in document.lines]
    if not amounts:
        return []
    if document.net_minor == 0:
        return [document.tax_minor] + [0] * (len(amounts) - 1)
    exact = [Fraction(document.tax_minor * a, document.net_minor) for a in amounts]
    floors = [math.floor(x) for x in exact]
    missing = document.tax_minor - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


# --- the mapping -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What one Autotask value becomes in each ledger ('' where the map leaves it to the default)."""

    quickbooks: str = ""
    xero: str = ""
    account_code: str = ""


_TYPES = {
    "customer": "customer", "customers": "customer", "company": "customer", "companies": "customer",
    "contact": "customer", "account": "customer",
    "billingcode": "billing_code", "billingcodes": "billing_code", "item": "billing_code", "items": "billing_code",
    "product": "billing_code", "service": "billing_code", "productservice": "billing_code", "worktype": "billing_code",
    "materialcode": "billing_code", "code": "billing_code",
    "tax": "tax", "taxcode": "tax", "taxrate": "tax", "vat": "tax", "vatcategory": "tax", "vatrate": "tax",
    "taxtype": "tax",
    "setting": "setting", "settings": "setting", "option": "setting",
}  # fmt: skip
_SETTINGS = ("date_format", "account_code")


def _key(value: object) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().casefold()


def tax_key(category: str, rate: Decimal | None) -> str:
    """``S 21`` / ``21`` / ``S``: how a VAT category and rate are named in the map and the checklist."""
    rate_text = "" if rate is None else format(rate.normalize(), "f")
    return " ".join(x for x in (category.upper(), rate_text) if x)


def _parse_tax_key(text: str) -> str | None:
    match = re.fullmatch(r"\s*([A-Za-z]{1,2})?\s*(-?\d+(?:[.,]\d+)?)?\s*%?\s*", text)
    if not match or not (match.group(1) or match.group(2)):
        return None
    rate = Decimal(match.group(2).replace(",", ".")) if match.group(2) else None
    return tax_key(match.group(1) or "", rate).casefold()


@dataclass
class AccountingMap:
    """The ``accounting_map`` input table, read: lookups by Autotask value, settings, and row problems."""

    customers: dict[str, Target] = field(default_factory=dict)
    billing_codes: dict[str, Target] = field(default_factory=dict)
    taxes: dict[str, Target] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)  # as given, to record with the export
    given: bool = False

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, str]], given: bool = True) -> AccountingMap:
        out = cls(given=given)
        for row in rows:
            out._add({k: str(v or "").strip() for k, v in row.items()})
        return out

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> AccountingMap:
        """From the typed input table (empty frame: no map given)."""
        if frame.empty:
            return cls()
        columns = (
            "map_type",
            "autotask",
            "quickbooks",
            "xero",
            "ledger_name",
            "account_code",
            "_file",
            "_row",
        )
        rows = []
        for values in zip(
            *(frame[c].tolist() if c in frame else [""] * len(frame) for c in columns), strict=True
        ):
            rows.append(
                {c: "" if v is None or v != v else str(v) for c, v in zip(columns, values, strict=True)}
            )
        return cls.from_rows(rows)

    def _add(self, row: dict[str, str]) -> None:
        file, line = row.get("_file", ""), row.get("_row", "")
        where = f"accounting_map ({file}, row {line})" if file else "accounting_map"
        self.rows.append({k: v for k, v in row.items() if not k.startswith("_")})
        kind = _TYPES.get(re.sub(r"[\s_\-/]+", "", row.get("map_type", "")).casefold())
        source = row.get("autotask", "")
        if kind is None:
            self.problems.append(
                f"{where}: type {row.get('map_type', '')!r} is not customer, billing_code, tax or setting; ignored"
            )
        elif not source:
            self.problems.append(f"{where}: no Autotask value to map; ignored")
        elif kind == "setting":
            self._add_setting(where, source, row)
        else:
            self._add_target(where, kind, source, row)

    def _add_target(self, where: str, kind: str, source: str, row: dict[str, str]) -> None:
        both = row.get("ledger_name", "")
        target = Target(
            row.get("quickbooks") or both,
            # a Xero item code must exist in Xero: only the xero column names one, never the shared name
            row.get("xero", "") if kind == "billing_code" else row.get("xero") or both,
            row.get("account_code", ""),
        )
        table = {"customer": self.customers, "billing_code": self.billing_codes, "tax": self.taxes}[kind]
        key = _parse_tax_key(source) if kind == "tax" else _key(source)
        if key is None:
            self.problems.append(
                f"{where}: {source!r} is not a VAT category and/or rate (e.g. S 21, 21, Z); ignored"
            )
        elif target == Target():
            self.problems.append(f"{where}: {source!r} is mapped to nothing (no ledger value); ignored")
        elif key in table and table[key] != target:
            self.problems.append(f"{where}: {source!r} is mapped twice, differently; the first row is used")
        else:
            table.setdefault(key, target)

    def _add_setting(self, where: str, source: str, row: dict[str, str]) -> None:
        name = _key(source).replace(" ", "_")
        value = (
            row.get("ledger_name") or row.get("quickbooks") or row.get("xero") or row.get("account_code", "")
        )
        if name not in _SETTINGS:
            self.problems.append(
                f"{where}: unknown setting {source!r} (known: {', '.join(_SETTINGS)}); ignored"
            )
        elif name == "date_format" and value.upper() not in DATE_FORMATS:
            self.problems.append(
                f"{where}: date_format {value!r} is not one of {', '.join(DATE_FORMATS)}; {DEFAULT_DATE_FORMAT} is used"
            )
        else:
            self.settings[name] = value.upper() if name == "date_format" else value

    # lookups ------------------------------------------------------------------------------------------

    def customer(self, customer_id: str, name: str) -> Target | None:
        """By Autotask company id, else by company name (compared case-insensitively)."""
        found = self.customers.get(_key(customer_id)) if customer_id else None
        return found or (self.customers.get(_key(name)) if name else None)

    def billing_code(self, code_id: str, name: str) -> Target | None:
        found = self.billing_codes.get(_key(code_id)) if code_id else None
        return found or (self.billing_codes.get(_key(name)) if name else None)

    def tax(self, category: str, rate: Decimal) -> Target | None:
        for key in (tax_key(category, rate), tax_key("", rate), tax_key(category, None) if category else ""):
            if key and key.casefold() in self.taxes:
                return self.taxes[key.casefold()]
        return None

    @property
    def date_format(self) -> str:
        return DATE_FORMATS[self.settings.get("date_format", DEFAULT_DATE_FORMAT)]

    @property
    def account_code(self) -> str:
        return self.settings.get("account_code") or DEFAULT_ACCOUNT_CODE


# the stated defaults of what the map leaves out (UK VAT names, the edition where both ledgers are common)
def default_item(line: LedgerLine) -> str:
    return line.billing_code or ("Labour" if line.kind == "labour" else "Charges")


def default_tax_codes(category: str, rate: Decimal) -> tuple[str, str]:
    """QuickBooks' and Xero's tax code names for a VAT category and rate the map does not name."""
    category = category.upper()
    if category == "E":
        return "Exempt", "Exempt Income"
    if category == "Z":
        return "0.0% Z", "Zero Rated Income"
    if rate == 0 or category in ("AE", "K", "G", "O"):
        return "No VAT", "No VAT"
    return f"{rate.quantize(Decimal('0.1'))}% {category or 'S'}", f"{rate.normalize():f}% (VAT on Income)"


def vat_category_of(category: object, rate: Decimal) -> str:
    text = "" if category is None or category != category else str(category).strip().upper()
    return text or ("S" if rate > 0 else "")


# --- rows ----------------------------------------------------------------------------------------------


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def quantity_and_rate(line: LedgerLine, currency: str, sign: int = 1) -> tuple[str, str, str]:
    """Quantity, unit price and amount text of a line (``sign`` -1 turns a credit's amounts positive).

    Quantity x unit price is what both importers compute; when the line's quantity and price do not give
    its amount exactly (items rounded one by one), or have more places than the importers keep, the line
    is written as quantity 1 at its amount.
    """
    amount = sign * line.amount_minor
    quantity, price = line.quantity, line.unit_price
    try:
        exact = (
            price is not None
            and quantity != 0
            and _places(quantity) <= _MAX_PLACES
            and _places(price) <= _MAX_PLACES
            and to_minor(quantity * price, currency) == line.amount_minor
        )
    except InvalidOperation:
        exact = False
    if exact and price is not None:
        return _plain(quantity), _plain(sign * price), format_minor(amount, currency)
    return "1", format_minor(amount, currency), format_minor(amount, currency)


def _description(document: LedgerDocument, line: LedgerLine) -> str:
    text = line.description or default_item(line)
    if line.po_number and len(document.po_numbers) > 1:
        text = f"{text} (PO {line.po_number})"
    return text


def _reference(document: LedgerDocument) -> str:
    return "; ".join(document.po_numbers)


def _memo(document: LedgerDocument) -> str:
    parts = [document.memo] if document.memo else []
    if document.po_numbers:
        parts.append(f"PO {_reference(document)}")
    return "; ".join(parts)


def _date(day: dt.date | None, amap: AccountingMap) -> str:
    return "" if day is None else day.strftime(amap.date_format)


def _customer(document: LedgerDocument, amap: AccountingMap, ledger: str) -> str:
    target = amap.customer(document.customer_id, document.customer_name)
    mapped = getattr(target, ledger) if target else ""
    return mapped or document.customer_name or document.customer_id


def _tax_code(document: LedgerDocument, amap: AccountingMap, ledger: str) -> str:
    target = amap.tax(document.vat_category, document.tax_rate)
    mapped = getattr(target, ledger) if target else ""
    quickbooks, xero = default_tax_codes(document.vat_category, document.tax_rate)
    return mapped or (quickbooks if ledger == QUICKBOOKS else xero)


def quickbooks_rows(document: LedgerDocument, amap: AccountingMap) -> list[dict[str, str]]:
    """The rows of one document in QuickBooks' invoice import, or its credit note import (positive amounts)."""
    credit = document.is_credit_note
    sign = -1 if credit else 1
    customer = _customer(document, amap, QUICKBOOKS)
    tax_code = _tax_code(document, amap, QUICKBOOKS)
    rows = []
    for line, tax in zip(document.lines, line_tax(document), strict=True):
        target = amap.billing_code(line.billing_code_id, line.billing_code)
        quantity, rate, amount = quantity_and_rate(line, document.currency, sign)
        row = {
            "Customer": customer,
            "Location": "",
            "Memo": _memo(document),
            "Item(Product/Service)": (target.quickbooks if target else "") or default_item(line),
            "ItemDescription": _description(document, line),
            "ItemQuantity": quantity,
            "ItemRate": rate,
            "ItemAmount": amount,
            "ItemTaxCode": tax_code,
            "ItemTaxAmount": format_minor(sign * tax, document.currency),
            "ServiceDate": _date(line.service_date, amap),
            "Currency": document.currency,
        }
        if credit:
            row |= {"CreditNoteNo": document.number, "CreditNoteDate": _date(document.issue_date, amap)}
        else:
            row |= {
                "InvoiceNo": document.number,
                "InvoiceDate": _date(document.issue_date, amap),
                "DueDate": _date(document.due_date, amap),
                "Terms": _QUICKBOOKS_TERMS.get(document.terms_days, ""),
            }
        rows.append(row)
    return rows


def xero_rows(document: LedgerDocument, amap: AccountingMap) -> list[dict[str, str]]:
    """The rows of one document in Xero's sales invoice template (a credit note's amounts negative)."""
    contact = document.contact
    tax_type = _tax_code(document, amap, XERO)
    rows = []
    for line, tax in zip(document.lines, line_tax(document), strict=True):
        target = amap.billing_code(line.billing_code_id, line.billing_code)
        quantity, unit, _ = quantity_and_rate(line, document.currency)
        rows.append(
            {
                "ContactName": _customer(document, amap, XERO),
                "EmailAddress": contact.email,
                "POAddressLine1": contact.address,
                "POAddressLine2": contact.address2,
                "POCity": contact.city,
                "POPostalCode": contact.postal_code,
                "POCountry": contact.country,
                "InvoiceNumber": document.number,
                "Reference": _reference(document) or document.memo,
                "InvoiceDate": _date(document.issue_date, amap),
                "DueDate": _date(document.due_date, amap),
                "InventoryItemCode": target.xero if target else "",
                "Description": _description(document, line),
                "Quantity": quantity,
                "UnitAmount": unit,
                "AccountCode": (target.account_code if target else "") or amap.account_code,
                "TaxType": tax_type,
                "TaxAmount": format_minor(tax, document.currency),
                "Currency": document.currency,
            }
        )
    return rows


# --- files ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One written import file and the documents in it."""

    ledger: str
    name: str
    documents: tuple[LedgerDocument, ...]
    rows: int


def _batches(
    documents: Sequence[LedgerDocument], limit: int, by_currency: bool
) -> Iterator[list[LedgerDocument]]:
    batch: list[LedgerDocument] = []
    for document in documents:
        if batch and (len(batch) >= limit or (by_currency and batch[-1].currency != document.currency)):
            yield batch
            batch = []
        batch.append(document)
    if batch:
        yield batch


def _file_name(stem: str, index: int) -> str:
    return f"{stem}.csv" if index == 1 else f"{stem}_{index}.csv"


def write_rows(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> int:
    """A UTF-8 CSV (no byte-order mark: it would become part of the first heading) with every text value
    neutralised against spreadsheet formulas. Returns the number of rows."""
    frame = pd.DataFrame(list(rows), columns=list(columns), dtype="str").fillna("")
    for column in frame.columns:
        frame[column] = csv_safe(frame[column])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(frame.itertuples(index=False, name=None))
    return len(frame)


def write_files(
    documents: Sequence[LedgerDocument],
    amap: AccountingMap,
    folder: Path,
    *,
    quickbooks_limit: int = QUICKBOOKS_LIMIT,
    xero_limit: int = XERO_LIMIT,
) -> list[ExportFile]:
    """Write the documents' import files into ``folder`` (created): QuickBooks invoices and credit notes,
    one currency a file, and Xero's template; the documents of one file in number order."""
    for document in documents:  # a bug, never user data: the ledger would get another total than the invoice
        if not document.lines or sum(ln.amount_minor for ln in document.lines) != document.net_minor:
            raise OutputError(
                f"internal check failed: the lines of {document.number} do not add up to its net"
            )
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(documents, key=lambda d: (d.currency, d.issue_date, d.number))
    out: list[ExportFile] = []
    plans = (
        (QUICKBOOKS, "quickbooks_invoices", QUICKBOOKS_INVOICE_COLUMNS, [d for d in ordered if not d.is_credit_note],
         quickbooks_limit, True, quickbooks_rows),
        (QUICKBOOKS, "quickbooks_credit_notes", QUICKBOOKS_CREDIT_NOTE_COLUMNS,
         [d for d in ordered if d.is_credit_note], quickbooks_limit, True, quickbooks_rows),
        (XERO, "xero_invoices", XERO_COLUMNS, sorted(documents, key=lambda d: (d.issue_date, d.number)), xero_limit,
         False, xero_rows),
    )  # fmt: skip
    for ledger, stem, columns, docs, limit, by_currency, rows_of in plans:
        for index, batch in enumerate(_batches(docs, limit, by_currency), start=1):
            name = _file_name(stem, index)
            count = write_rows(folder / name, columns, (row for d in batch for row in rows_of(d, amap)))
            out.append(ExportFile(ledger, name, tuple(batch), count))
    return out


# --- what the checklist says ---------------------------------------------------------------------------


def _names(values: Iterable[str], limit: int = 10) -> str:
    values = sorted(set(values), key=str.casefold)
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def checklist_notes(items: pd.DataFrame, companies: pd.DataFrame, amap: AccountingMap) -> tuple[str, ...]:
    """What the ledgers will get by default because the ``accounting_map`` does not say (and its problems).

    Like the QuickBooks transfer, a name the ledger does not know creates a new customer or product/service.
    """
    notes: list[str] = (
        [] if amap.given else ["no accounting_map table: the ledger files use the Autotask names"]
    )
    notes += amap.problems
    if items.empty:
        return tuple(notes)
    customers = items.drop_duplicates("customer_id")
    unmapped = [
        str(name or cid)
        for cid, name in zip(customers["customer_id"], customers["customer_name"], strict=True)
        if amap.customer(str(cid), str(name or "")) is None
    ]
    if unmapped:
        notes.append(
            f"{len(unmapped)} customer{'s' if len(unmapped) != 1 else ''} would be created in QuickBooks and "
            f"Xero unless one of exactly that name exists: {_names(unmapped)}"
        )
    codes = items.drop_duplicates(["kind", "billing_code_id", "billing_code_name"])
    unmapped_codes = []
    for kind, cid, name in zip(
        codes["kind"], codes["billing_code_id"], codes["billing_code_name"], strict=True
    ):
        if amap.billing_code(str(cid or ""), str(name or "")) is None:
            unmapped_codes.append(
                default_item(LedgerLine("", str(kind), "", str(name or ""), "", Decimal(0), None, 0, None))
            )
    if unmapped_codes:
        n = len(set(unmapped_codes))
        notes.append(
            f"{n} billing code{'s' if n != 1 else ''} would be created as products/services in QuickBooks and "
            f"go to Xero account {amap.account_code}: {_names(unmapped_codes)}"
        )
    notes += _tax_notes(items, companies, amap)
    return tuple(notes)


def _tax_notes(items: pd.DataFrame, companies: pd.DataFrame, amap: AccountingMap) -> list[str]:
    rates: dict[str, tuple[str, Decimal]] = {}
    if not companies.empty and "tax_rate" in companies:
        known = companies.drop_duplicates("customer_id").set_index("customer_id")
        for cid in items["customer_id"].drop_duplicates().tolist():
            rate = known["tax_rate"].get(cid) if cid in known.index else None
            rate = Decimal(str(rate)) if rate is not None and rate == rate else Decimal(0)
            category = vat_category_of(
                known["vat_category"].get(cid) if "vat_category" in known else None, rate
            )
            rates[tax_key(category, rate)] = (category, rate)
    else:
        rates[tax_key("", Decimal(0))] = ("", Decimal(0))
    defaults = []
    for key, (category, rate) in sorted(rates.items()):
        if amap.tax(category, rate) is None:
            quickbooks, xero = default_tax_codes(category, rate)
            defaults.append(f"{key or '0'} -> QuickBooks {quickbooks!r}, Xero {xero!r}")
    if not defaults:
        return []
    return [
        f"VAT rates without a tax code in the accounting_map, given the default names: {'; '.join(defaults)}"
    ]

"""One sample month written the ways real Autotask exports come: ``billing sample --style ... --culture ...``.

Every rendering holds the same month, so every one must give the same invoices, amounts and currencies:

- ``rest``: the REST API's camelCase names, one xlsx (or csv) per entity (``sample.py``'s own writer);
- ``powershell51``: Windows PowerShell 5.1 ``Export-Csv`` of the REST objects: a ``#TYPE
  System.Management.Automation.PSCustomObject`` first line, every field quoted, ASCII (``é`` becomes
  ``?``), dates left as the API's ISO strings, numbers in the culture (``386,645`` in de-DE) with a comma
  delimiter all the same;
- ``powershell7``: PowerShell 7 ``Export-Csv``: no type line, every field quoted, UTF-8, dates turned
  into the culture's short form (``10/1/2026 12:00:00 AM`` en-US, ``01.10.2026 00:00:00`` de-DE) and
  numbers in the culture (PowerShell issues #13592, #19536, #15828, #5131); list fields as
  ``System.Object[]``;
- ``soap``: the SOAP-era entity and field names (``Account``, ``TicketCost``, ``AllocationCodeID``,
  ``BillableToAccount``, ``Billed``, ...) as old scripts still write them, csv;
- ``report``: report workbooks: title rows, screen labels (``Organization``, ``Purchase Date``, ``Is
  Billable to Company``), names instead of ids (organisation, ticket number, resource) and a totals row.

The non-REST renderings also carry Autotask's own shape of rates and currencies: work types at
``unitPrice 0`` with the labour rate on the role (a Roles table), and companies' ``currencyID`` /
``countryID`` with the Currencies and Countries tables.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from billing_lib.domain.errors import UsageError
from billing_lib.domain.period import EXCEL_EPOCH as _EXCEL_EPOCH

STYLES = ("rest", "powershell51", "powershell7", "soap", "report")
CULTURES = ("en-US", "de-DE")
_PS_TYPE = "#TYPE System.Management.Automation.PSCustomObject"
_CURRENCIES = {"EUR": 1, "GBP": 2, "USD": 3, "CHF": 4}  # Autotask's Currencies ids in this sample tenant
_COUNTRIES = {"NL": 150, "BE": 21, "DE": 81, "GB": 225, "CH": 204}


@dataclass
class Table:
    """What ``sample.py`` generates for one file: columns and object arrays, which columns are dates / yes-no."""

    file: str
    columns: tuple[str, ...]
    data: list[np.ndarray]
    dates: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()
    title: tuple[str, ...] = ()

    def column(self, name: str) -> np.ndarray:
        return self.data[self.columns.index(name)]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        yield from zip(*(col.tolist() for col in self.data), strict=True)


def check(style: str, culture: str) -> None:
    if style not in STYLES:
        raise UsageError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    if culture not in CULTURES:
        raise UsageError(f"culture must be one of {', '.join(CULTURES)}, got {culture!r}")


# --- Autotask's own shape: roles carry the labour rate, companies carry currency and country ids ---------


def _obj(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _set(table: Table, name: str, values: np.ndarray, after: str | None = None) -> Table:
    """The table with column ``name`` replaced (or added after ``after``)."""
    if name in table.columns:
        data = list(table.data)
        data[table.columns.index(name)] = values
        return replace(table, data=data)
    at = table.columns.index(after) + 1 if after else len(table.columns)
    return replace(
        table,
        columns=(*table.columns[:at], name, *table.columns[at:]),
        data=[*table.data[:at], values, *table.data[at:]],
    )


def _drop(table: Table, *names: str) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c not in names]
    return replace(table, columns=tuple(table.columns[i] for i in keep), data=[table.data[i] for i in keep])


def autotask_shape(tables: list[Table], work_types: Sequence[tuple[int, str, float, int]]) -> list[Table]:
    """Work types at 0.0000 with one role per work type carrying its rate (Roles), time entries naming
    that role, and companies with ``currencyID`` / ``countryID`` and the Currencies / Countries tables."""
    role_of = {code: 29683101 + i for i, (code, *_rest) in enumerate(work_types)}
    out = []
    for table in tables:
        if table.file == "BillingCodes":
            ids = table.column("id")
            prices = table.column("unitPrice").copy()
            prices[[i in role_of for i in ids.tolist()]] = 0.0
            table = _set(table, "unitPrice", prices)
        elif table.file == "TimeEntries":
            codes = table.column("billingCodeID").tolist()
            table = _set(table, "roleID", _obj([role_of.get(c) for c in codes]))
        elif table.file == "Companies":
            currency = table.column("currency").tolist()
            country = table.column("country").tolist()
            table = _set(table, "currencyID", _obj([_CURRENCIES[c] for c in currency]), after="companyNumber")
            table = _set(table, "countryID", _obj([_COUNTRIES[c] for c in country]), after="postal_code")
            table = _drop(table, "currency", "country")
        out.append(table)
    roles = [
        (role_of[code], name, float(price), 1.0, True) for code, name, price, _role in work_types
    ]  # hourlyFactor 1.0: not a rate
    out.append(Table("Roles", ("id", "name", "hourlyRate", "hourlyFactor", "isActive"),
                     [_obj([r[k] for r in roles]) for k in range(5)], bools=frozenset({"isActive"})))  # fmt: skip
    currencies = sorted(_CURRENCIES.items(), key=lambda kv: kv[1])
    out.append(Table("Currencies", ("id", "name", "description", "isInternalCurrency"),
                     [_obj([i for _, i in currencies]), _obj([c for c, _ in currencies]),
                      _obj([c for c, _ in currencies]), _obj([c == "EUR" for c, _ in currencies])],
                     bools=frozenset({"isInternalCurrency"})))  # fmt: skip
    countries = sorted(_COUNTRIES.items(), key=lambda kv: kv[1])
    out.append(Table("Countries", ("id", "countryCode", "name"),
                     [_obj([i for _, i in countries]), _obj([c for c, _ in countries]),
                      _obj([c for c, _ in countries])]))  # fmt: skip
    return out


# --- PowerShell's Export-Csv ---------------------------------------------------------------------------


def _day(value: Any) -> datetime | None:
    """A date cell of the sample (an Excel serial, or the API's ISO text) as a datetime; None for other text."""
    if isinstance(value, int) and not isinstance(value, bool):
        d = _EXCEL_EPOCH + timedelta(days=value)
        return datetime(d.year, d.month, d.day)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return datetime.fromisoformat(value[:10])
    return None


def _ps_date(value: Any, culture: str, *, convert: bool) -> str:
    day = _day(value)
    if day is None:
        return "" if value is None else str(value)
    if not convert:  # Windows PowerShell 5.1 leaves the API's date strings as they are
        return f"{day:%Y-%m-%d}T00:00:00Z"
    if culture == "de-DE":
        return f"{day:%d.%m.%Y %H:%M:%S}"
    hour = day.hour % 12 or 12
    return f"{day.month}/{day.day}/{day.year} {hour}:{day:%M:%S} {'AM' if day.hour < 12 else 'PM'}"


def _ps_number(value: Any, culture: str) -> str:
    """A number as .NET's ``Double.ToString()`` writes it in the culture: no grouping, shortest digits."""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return text.replace(".", ",") if culture == "de-DE" else text


def _ps_cell(value: Any, name: str, table: Table, culture: str, *, convert_dates: bool) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if name in table.dates:
        return _ps_date(value, culture, convert=convert_dates)
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return _ps_number(value.item() if isinstance(value, np.generic) else value, culture)
    return str(value)


def write_powershell(path: Path, table: Table, culture: str, version: int) -> None:
    """``$rows | Export-Csv path`` as Windows PowerShell 5.1 (``version`` 5) or PowerShell 7 writes it."""
    columns = (*table.columns, "userDefinedFields")  # a list field: Export-Csv writes its type name
    lines = [_PS_TYPE] if version == 5 else []
    lines.append(",".join(f'"{c}"' for c in columns))
    for row in table.rows():
        cells = [
            _ps_cell(v, name, table, culture, convert_dates=version == 7)
            for v, name in zip(row, table.columns, strict=True)
        ]
        cells.append("System.Object[]")
        lines.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    text = "\r\n".join(lines) + "\r\n"
    if version == 5:  # Export-Csv's default encoding in 5.1 is ASCII: what it cannot encode becomes "?"
        path.write_bytes(text.encode("ascii", errors="replace"))
    else:
        path.write_bytes(text.encode("utf-8"))


# --- SOAP-era names ------------------------------------------------------------------------------------

_SOAP_FILES = {
    "Companies": "Account", "ContractCharges": "ContractCost", "TicketCharges": "TicketCost",
    "ProjectCharges": "ProjectCost", "BillingCodes": "AllocationCode",
}  # fmt: skip
_SOAP_COLUMNS = {
    "companyID": "AccountID", "billingCodeID": "AllocationCodeID", "isBillableToCompany": "BillableToAccount",
    "isBilled": "Billed", "companyName": "AccountName", "nonBillable": "NonBillable",
}  # fmt: skip


def _soap(table: Table) -> Table:
    return replace(
        table,
        file=_SOAP_FILES.get(table.file, table.file),
        columns=tuple(_SOAP_COLUMNS.get(c, c) for c in table.columns),
        dates=frozenset(_SOAP_COLUMNS.get(c, c) for c in table.dates),
        bools=frozenset(_SOAP_COLUMNS.get(c, c) for c in table.bools),
    )


def _write_plain_csv(path: Path, table: Table) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(table.columns)
        for row in table.rows():  # numbers as the scripts' JSON gives them: 95, not 95.0 next to 95
            out.writerow(
                [
                    _ps_cell(v, name, table, "en-US", convert_dates=False)
                    for v, name in zip(row, table.columns, strict=True)
                ]
            )


# --- report workbooks: screen labels, names instead of ids -------------------------------------------

_LABELS = {
    "Companies": {"id": "Organization ID", "companyName": "Organization Name", "companyNumber": "Organization Number"},
    "BillingItems": {"id": "Item ID", "itemDate": "Item Date", "quantity": "Quantity", "rate": "Rate",
                     "extendedPrice": "Extended Price", "purchaseOrderNumber": "Purchase Order Number",
                     "itemName": "Item Name", "description": "Description"},
    "TimeEntries": {"id": "Time Entry ID", "dateWorked": "Date Worked", "hoursWorked": "Hours Worked",
                    "offsetHours": "Offset Hours", "hoursToBill": "Hours To Bill", "summaryNotes": "Summary Notes"},
    "charges": {"id": "Charge ID", "datePurchased": "Purchase Date", "unitQuantity": "Unit Quantity",
                "unitPrice": "Unit Price", "billableAmount": "Billable Amount",
                "isBillableToCompany": "Is Billable to Company", "purchaseOrderNumber": "Purchase Order Number",
                "internalPurchaseOrderNumber": "Internal Purchase Order Number", "name": "Name"},
}  # fmt: skip
_TOTALLED = {"BillingItems": "extendedPrice", "TimeEntries": "hoursToBill", "ContractCharges": "billableAmount",
             "TicketCharges": "billableAmount", "ProjectCharges": "billableAmount"}  # fmt: skip


def _names(tables: list[Table]) -> dict[str, dict[Any, str]]:
    by_file = {t.file: t for t in tables}
    companies, tickets, resources = by_file["Companies"], by_file["Tickets"], by_file["Resources"]
    return {
        "companyID": dict(
            zip(companies.column("id").tolist(), companies.column("companyName").tolist(), strict=True)
        ),
        "ticketID": dict(
            zip(tickets.column("id").tolist(), tickets.column("ticketNumber").tolist(), strict=True)
        ),
        "resourceID": {
            i: f"{f} {last}"
            for i, f, last in zip(
                resources.column("id").tolist(),
                resources.column("firstName").tolist(),
                resources.column("lastName").tolist(),
                strict=True,
            )
        },
    }


_NAME_LABELS = {"companyID": "Organization", "ticketID": "Ticket Number", "resourceID": "Resource"}


def _report(table: Table, names: dict[str, dict[Any, str]]) -> Table:
    """Screen labels; in the billable tables the organisation, ticket and resource by name, not id."""
    if table.file in _TOTALLED:
        for id_col, label in _NAME_LABELS.items():
            if id_col in table.columns:
                named = _obj(
                    [
                        names[id_col].get(v, "") if v is not None else None
                        for v in table.column(id_col).tolist()
                    ]
                )
                table = _set(table, id_col, named)
                table = replace(table, columns=tuple(label if c == id_col else c for c in table.columns))
    labels = _LABELS.get("charges" if table.file.endswith("Charges") else table.file, {})
    return replace(
        table,
        columns=tuple(labels.get(c, c) for c in table.columns),
        dates=frozenset(labels.get(c, c) for c in table.dates),
        bools=frozenset(labels.get(c, c) for c in table.bools),
        title=(f"Autotask report - {table.file}", "Filters: all organizations; Date range: this month"),
    )


def _write_report(path: Path, table: Table, totalled: str | None, created: datetime) -> None:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    wb.set_properties({"title": table.file, "author": "Autotask", "created": created})
    ws = wb.add_worksheet(table.file[:31])
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    r = 0
    for line in table.title:
        ws.write_string(r, 0, line)
        r += 1
    r += 1
    ws.write_row(r, 0, table.columns)
    total = 0.0
    for row in table.rows():
        r += 1
        for j, (value, name) in enumerate(zip(row, table.columns, strict=True)):
            day = _day(value) if name in table.dates else None
            if day is not None:
                ws.write_datetime(r, j, day, date_fmt)
            elif value is not None and not (isinstance(value, float) and value != value):
                ws.write(r, j, value.item() if isinstance(value, np.generic) else value)
            if name == totalled and isinstance(value, int | float) and not isinstance(value, bool):
                total += float(value)
    if totalled is not None:  # the totals row a report ends with: not an item
        ws.write_string(r + 1, 0, "Total")
        ws.write_number(r + 1, table.columns.index(totalled), round(total, 2))
    wb.close()


# --- writing ---------------------------------------------------------------------------------------------


def write(
    out_dir: Path,
    tables: list[Table],
    style: str,
    culture: str,
    created: datetime,
    work_types: Sequence[tuple[int, str, float, int]],
) -> dict[str, int]:
    """Write the month's tables in a rendering other than ``rest``; the data row count of each file."""
    check(style, culture)
    tables = autotask_shape(tables, work_types)
    counts: dict[str, int] = {}
    writer: Callable[[Table], Path]
    if style in ("powershell51", "powershell7"):

        def writer(t: Table) -> Path:
            path = out_dir / f"{t.file}.csv"
            write_powershell(path, t, culture, 5 if style == "powershell51" else 7)
            return path

    elif style == "soap":

        def writer(t: Table) -> Path:
            soap = _soap(t)
            path = out_dir / f"{soap.file}.csv"
            _write_plain_csv(path, soap)
            return path

    else:
        names = _names(tables)

        def writer(t: Table) -> Path:
            # the current UI's word for companies (Directory > Organizations)
            path = out_dir / f"{'Organizations' if t.file == 'Companies' else t.file}.xlsx"
            report = _report(t, names)
            totalled = _TOTALLED.get(t.file)
            label = _LABELS.get("charges" if t.file.endswith("Charges") else t.file, {})
            _write_report(path, report, label.get(totalled, totalled) if totalled else None, created)
            return path

    for table in tables:
        counts[writer(table).name] = len(table.data[0]) if table.data else 0
    return counts

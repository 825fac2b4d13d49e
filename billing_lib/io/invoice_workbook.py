"""SPEC section 5: one invoice's workbook (sheets ``Invoice`` and ``Detail``) in the template's look.

Written with xlsxwriter (an order of magnitude faster than openpyxl). Text from the inputs is always a
text cell, never a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from billing_lib.core.documents import date_text, line_order
from billing_lib.domain.errors import OutputError
from billing_lib.domain.money import minor_digits
from billing_lib.domain.parties import DEFAULT_EXEMPTION, terms_days
from billing_lib.domain.records import Invoice, InvoiceLine
from billing_lib.domain.text import FORMULA_START
from billing_lib.io.excel_cells import (
    EXCEL_EPOCH_ORDINAL,
    MAX_ROWS,
    excel_serial,
    text_safe_workbook,
    write_atomically,
)
from billing_lib.io.filenames import check_contained
from billing_lib.io.xlsx_template import (
    DEFAULT_FORMATS,
    FIELD_PATTERN,
    HEADER_FIELDS,
    ITEM_FIELDS,
    LINE_FIELDS,
    MONEY_PLACES,
    Template,
    TemplateCell,
    TemplateSheet,
    load_template,
)

# --- writing one invoice --------------------------------------------------------------------------


def _plain(number: Decimal) -> str:
    """``Decimal('20.50')`` as ``20.5``, never in exponent form."""
    text = format(number.normalize(), "f")
    return text


@dataclass(frozen=True, slots=True)
class _SheetLine:
    """A row of the lines table: an invoice line (its date or date range) or a PO's subtotal."""

    date: dt.date | None
    dates: str
    description: str
    po_number: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    item_count: int | None


def sheet_lines(invoice: Invoice) -> list[_SheetLine]:
    """The invoice's lines in date order; on an invoice with several POs, grouped by PO with a subtotal each."""
    lines = sorted(invoice.lines, key=line_order)
    rows: list[_SheetLine] = []

    def row(line: InvoiceLine) -> _SheetLine:
        return _SheetLine(line.date, date_text(line), line.description, line.po_number, line.quantity,
                          line.unit_price, line.amount, line.item_count)  # fmt: skip

    if len({line.po_number for line in lines}) < 2:
        return [row(line) for line in lines]
    order = {po: i for i, po in enumerate(invoice.po_numbers)}
    for po in sorted(
        {line.po_number for line in lines}, key=lambda p: (order.get(p, len(order)), p == "", p)
    ):
        group = [line for line in lines if line.po_number == po]
        rows += [row(line) for line in group]
        subtotal = sum((line.amount for line in group), Decimal(0))
        label = f"Subtotal PO {po}" if po else "Subtotal without PO"
        rows.append(_SheetLine(None, "", label, po, None, None, subtotal, None))
    return rows


def _vat_texts(invoice: Invoice) -> tuple[str, str]:
    """``VAT S 21 %`` and, for a 0 % category, its exemption wording."""
    category = invoice.customer.vat_category or ("S" if invoice.tax_rate > 0 else "")
    label = f"VAT {category} {_plain(invoice.tax_rate)} %".replace("  ", " ")
    if invoice.tax_rate != 0 or not category:
        return label, ""
    text, code = DEFAULT_EXEMPTION.get(category, ("", ""))
    own = invoice.customer.vat_exemption_reason
    wording = own or text
    return label, (
        f"VAT {category} 0 %: {wording}" + (f" ({code})" if code and not own else "")
    ) if wording else ""


def _header_values(invoice: Invoice, draft: bool = False) -> dict[str, Any]:
    customer, entity = invoice.customer, invoice.billing_entity
    days = terms_days(invoice.payment_terms)
    vat_label, vat_exemption = _vat_texts(invoice)
    values: dict[str, Any] = {
        "title": f"DRAFT {invoice.title}" if draft else invoice.title, "invoice_number": invoice.invoice_number,
        "due_date": None if days is None or invoice.is_credit_note else invoice.invoice_date + dt.timedelta(days=days),
        "vat_label": vat_label, "vat_exemption": vat_exemption,
        "draft_mark": "DRAFT - not a valid invoice" if draft else "",
        "invoice_date": invoice.invoice_date,
        "period": invoice.period, "customer_id": invoice.customer_id, "customer_name": customer.name,
        "customer_address": ", ".join(customer.address_lines), "customer_tax_id": customer.tax_id,
        "entity_name": entity.name, "entity_address": ", ".join(entity.address_lines),
        "entity_tax_id": entity.tax_id, "po_numbers": "; ".join(invoice.po_numbers),
        "currency": invoice.currency, "payment_terms": invoice.payment_terms,
        "billing_contact": invoice.billing_contact, "method": invoice.method, "group_key": invoice.group_key,
        "net": invoice.net, "tax": invoice.tax, "total": invoice.total, "tax_rate": invoice.tax_rate,
        "line_count": len(invoice.lines), "item_count": len(invoice.items),
    }  # fmt: skip
    for i in range(4):
        values[f"customer_address_{i + 1}"] = (
            customer.address_lines[i] if i < len(customer.address_lines) else ""
        )
        values[f"entity_address_{i + 1}"] = entity.address_lines[i] if i < len(entity.address_lines) else ""
    return values


def _as_text(value: Any, kind: str, digits: int) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):,.{digits}f}"
    if kind in ("quantity", "percent"):
        return _plain(Decimal(value))
    if kind == "date":
        return value.isoformat()
    return str(value)


def _safe_currency(currency: str) -> str:
    """A currency code as it may appear inside a number format (letters and digits only)."""
    return re.sub(r"[^A-Za-z0-9]", "", currency)[:8]


class _Formats:
    """The xlsxwriter formats of one workbook, made once per template style and field kind."""

    def __init__(self, wb: Any, currency: str) -> None:
        self.wb = wb
        self.digits = minor_digits(currency)
        self.currency = _safe_currency(currency)
        self.cache: dict[tuple[Any, ...], Any] = {}

    def get(self, style: tuple[tuple[str, Any], ...], kind: str = "", quote: bool = False) -> Any:
        key = (style, kind, quote)
        fmt = self.cache.get(key)
        if fmt is None and key not in self.cache:
            props = dict(style)
            num = props.get("num_format", "")
            if not num and kind in DEFAULT_FORMATS:
                num = DEFAULT_FORMATS[kind]
            if num:
                num = num.replace("{currency}", self.currency)
                if kind == "money":
                    places = "0" + ("." + "0" * self.digits if self.digits else "")
                    num = MONEY_PLACES.sub(places, num)
                props["num_format"] = num
            if quote:
                props["quote_prefix"] = True
            fmt = self.wb.add_format(props) if props else None
            self.cache[key] = fmt
        return fmt


_VISIBLE_WHEN_EMPTY = ("bg_color", "pattern", "left", "right", "top", "bottom", "diag_type")


def _shows_when_empty(style: tuple[tuple[str, Any], ...]) -> bool:
    """Whether an empty cell of this style looks different from no cell (a fill or a border)."""
    return any(key in _VISIBLE_WHEN_EMPTY for key, _ in style)


def _skip(row: int, col: int, value: Any, fmt: Any = None) -> None:
    """An empty cell whose style shows nothing is not written at all (many detail cells are empty)."""


def _writer(
    ws: Any, formats: _Formats, kind: str, style: tuple[tuple[str, Any], ...]
) -> Callable[[int, int, Any], Any]:
    """A function writing one typed value of ``kind`` into a cell with the style (blank when empty).

    It returns what it wrote, so that wrapped text can be given the row height it needs.
    """
    fmt = formats.get(style, kind)
    write_number, write_string = ws.write_number, ws.write_string
    write_blank = ws.write_blank if _shows_when_empty(style) else _skip
    if kind == "date":

        def date_cell(r: int, c: int, v: Any) -> Any:
            if v is None:
                write_blank(r, c, None, fmt)
            else:
                write_number(r, c, v.toordinal() - EXCEL_EPOCH_ORDINAL, fmt)
            return v

        return date_cell
    if kind in ("money", "quantity", "number"):

        def number_cell(r: int, c: int, v: Any) -> Any:
            if v is None:
                write_blank(r, c, None, fmt)
            else:
                write_number(r, c, float(v), fmt)
            return v

        return number_cell
    if kind == "percent":
        scale = 100.0 if "%" in str(dict(style).get("num_format", "")).replace('"%"', "") else 1.0

        def percent_cell(r: int, c: int, v: Any) -> Any:
            write_number(r, c, float(v) / scale, fmt)
            return v

        return percent_cell
    quoted = formats.get(style, kind, quote=True)

    def text_cell(r: int, c: int, v: Any) -> Any:
        if not v:
            write_blank(r, c, None, fmt)
        elif v.startswith(FORMULA_START):
            write_string(r, c, v, quoted)
        else:
            write_string(r, c, v, fmt)
        return v

    return text_cell


def _write_static(ws: Any, cell: TemplateCell, row: int, values: Mapping[str, Any], formats: _Formats) -> Any:
    """Write a template cell that does not repeat; returns what it wrote."""
    if cell.kind == "blank":
        ws.write_blank(row, cell.col, None, formats.get(cell.style))
        return None
    if cell.kind == "number":
        ws.write_number(row, cell.col, cell.value, formats.get(cell.style))
        return cell.value
    if cell.kind == "date":
        ws.write_number(row, cell.col, excel_serial(cell.value), formats.get(cell.style, "date"))
        return cell.value
    if cell.kind == "text":
        return _writer(ws, formats, "text", cell.style)(row, cell.col, cell.value)
    if cell.kind == "field":
        return _writer(ws, formats, cell.field_kind, cell.style)(row, cell.col, values[cell.value])
    # text with fields; blank when every field in it is empty ("VAT number {entity_tax_id}" without one)
    names = FIELD_PATTERN.findall(cell.value)
    parts = {n: _as_text(values[n], HEADER_FIELDS[n], formats.digits) for n in names}
    if not any(parts.values()):
        ws.write_blank(row, cell.col, None, formats.get(cell.style))
        return None
    text = FIELD_PATTERN.sub(lambda m: parts[m.group(1)], cell.value)
    return _writer(ws, formats, "text", cell.style)(row, cell.col, text)


def _record_writers(
    ws: Any,
    sheet: TemplateSheet,
    formats: _Formats,
    header: Mapping[str, Any],
    prefix: str,
    fields: Mapping[str, str],
) -> list[Callable[[int, Any], Any]]:
    """Per cell of the line row, a function writing it for one record and returning what it wrote."""
    out: list[Callable[[int, Any], Any]] = []
    for cell in sheet.line_cells:
        col = cell.col
        if cell.kind == "field" and cell.record:
            write = _writer(ws, formats, cell.field_kind, cell.style)
            attr = cell.value

            def field(r: int, rec: Any, write: Any = write, col: int = col, attr: str = attr) -> Any:
                return write(r, col, getattr(rec, attr))

            out.append(field)
        elif cell.kind == "mixed":
            template = cell.value
            text_write = _writer(ws, formats, "text", cell.style)

            def mixed(
                r: int, rec: Any, template: str = template, write: Any = text_write, col: int = col
            ) -> Any:
                def value(m: re.Match[str]) -> str:
                    name = m.group(1)
                    if name.startswith(prefix + "."):
                        attr = name.split(".", 1)[1]
                        return _as_text(getattr(rec, attr), fields[attr], formats.digits)
                    return _as_text(header[name], HEADER_FIELDS[name], formats.digits)

                return write(r, col, FIELD_PATTERN.sub(value, template))

            out.append(mixed)
        else:
            static = cell
            values = header

            def other(
                r: int, rec: Any, static: TemplateCell = static, values: Mapping[str, Any] = values
            ) -> Any:
                return _write_static(ws, static, r, values, formats)

            out.append(other)
    return out


_DEFAULT_ROW_HEIGHT = 15.0
_DEFAULT_COLUMN_WIDTH = 8.43


def _column_widths(sheet: TemplateSheet) -> dict[int, float]:
    widths: dict[int, float] = {}
    for first, last, width, hidden in sheet.columns:
        for col in range(first, min(last, 200) + 1):
            widths[col] = 0.0 if hidden else (width or _DEFAULT_COLUMN_WIDTH)
    return widths


def _wrap_of(
    cell: TemplateCell, widths: Mapping[int, float], spans: Mapping[tuple[int, int], int]
) -> tuple[float, float] | None:
    """(width in characters, font size) of a cell whose text wraps; None when it does not wrap."""
    style = dict(cell.style)
    if not style.get("text_wrap"):
        return None
    last = spans.get((cell.row, cell.col), cell.col)
    width = sum(widths.get(c, _DEFAULT_COLUMN_WIDTH) for c in range(cell.col, last + 1))
    return width, float(style.get("font_size", 11))


def _text_height(text: str, width: float, font_size: float) -> float:
    """The row height (points) wrapped text needs.

    An estimate from the column width: neither Excel nor LibreOffice fits row heights when opening a file.
    """
    per_line = max(1, int(width * 11 / font_size * 1.15) - 1)  # proportional text is narrower than "0"
    lines = sum(
        max(1, len(textwrap.wrap(part, per_line, break_long_words=True))) for part in text.split("\n")
    )
    return (
        max(_DEFAULT_ROW_HEIGHT, round(lines * font_size * 1.32 + 3, 1)) if lines > 1 else _DEFAULT_ROW_HEIGHT
    )


def _set_layout(ws: Any, sheet: TemplateSheet, n: int, moved: Callable[[int], int]) -> None:
    """Column widths and row heights; the line row's height goes to each of its ``n`` rows."""
    line_row = sheet.line_row
    if sheet.default_row_height:
        ws.set_default_row(sheet.default_row_height)
    for first, last, width, hidden in sheet.columns:
        ws.set_column(first, last, width, None, {"hidden": True} if hidden else None)
    for row, height in sheet.row_heights:
        for r in range(line_row, line_row + n) if row == line_row else (moved(row),):
            ws.set_row(r, height)


def _merge_static(
    ws: Any, sheet: TemplateSheet, formats: _Formats, moved: Callable[[int], int]
) -> tuple[dict[tuple[int, int], int], list[tuple[int, int]]]:
    """Merge the template's areas off the line row; their spans, and the line row's merged columns."""
    top_left = {(c.row, c.col): c for c in sheet.cells}
    spans: dict[tuple[int, int], int] = {}  # template (row, col) -> last column of its merged area
    line_merges = []
    for r1, c1, r2, c2 in sheet.merges:
        spans[(r1, c1)] = c2
        if r1 == r2 == sheet.line_row:
            line_merges.append((c1, c2))
            continue
        cell = top_left.get((r1, c1))
        fmt = formats.get(cell.style, cell.field_kind) if cell is not None else None
        ws.merge_range(moved(r1), c1, moved(r2), c2, "", fmt)
    return spans, line_merges


def _write_records(
    ws: Any,
    sheet: TemplateSheet,
    records: Sequence[Any],
    writers: list[Callable[[int, Any], Any]],
    wraps: list[tuple[int, tuple[float, float]]],
    merge_formats: list[tuple[int, int, Any]],
    base_height: float,
    needed: dict[int, float],
) -> None:
    """One row per record from the line row down; rows whose wrapped text needs more height go to ``needed``."""
    line_row = sheet.line_row
    for i, record in enumerate(records):
        row = line_row + i
        for c1, c2, fmt in merge_formats:
            ws.merge_range(row, c1, row, c2, "", fmt)
        if not wraps:  # the common case, and the detail sheet's hot loop
            for write in writers:
                write(row, record)
            continue
        written = [write(row, record) for write in writers]
        for index, wrap in wraps:
            text = written[index]
            if isinstance(text, str):
                height = _text_height(text, *wrap)
                if height > base_height and height > needed.get(row, 0):
                    needed[row] = height


def _finish_sheet(
    ws: Any,
    sheet: TemplateSheet,
    n: int,
    moved: Callable[[int], int],
    header: Mapping[str, Any],
    formats: _Formats,
    draft: bool,
) -> None:
    """Pictures, frozen panes, the autofilter over the moved rows, and the page setup."""
    for image in sheet.images:
        ws.insert_image(
            moved(image.row),
            image.col,
            "template-image.png",
            {
                "image_data": io.BytesIO(image.data),
                "x_offset": image.x_offset,
                "y_offset": image.y_offset,
                "x_scale": image.x_scale,
                "y_scale": image.y_scale,
                "object_position": 3,
            },
        )
    if sheet.freeze is not None:
        ws.freeze_panes(*sheet.freeze)
    if sheet.autofilter is not None:
        r1, c1, r2, c2 = sheet.autofilter
        ws.autofilter(r1, c1, moved(r2) if r2 > sheet.line_row else max(r2, sheet.line_row + n - 1), c2)
    page = dict(sheet.page)
    if draft:  # every printed page of a draft says so, whatever the template's header
        page["header"] = '&C&"-,Bold"&14&KC00000DRAFT - not a valid invoice'
    _apply_page(ws, page, header, formats.digits)


def _write_sheet(
    wb: Any,
    sheet: TemplateSheet,
    header: Mapping[str, Any],
    records: Sequence[Any],
    prefix: str,
    fields: Mapping[str, str],
    formats: _Formats,
    draft: bool = False,
) -> None:
    ws = wb.add_worksheet(sheet.name)
    line_row = sheet.line_row
    n = len(records)
    if line_row + n + 100 >= MAX_ROWS:
        raise OutputError(f"{header['invoice_number']}: {n} {prefix}s do not fit on one Excel sheet")

    def moved(row: int) -> int:
        """Where a template row lands once the line row has become ``n`` rows."""
        return row if row <= line_row else row + n - 1

    _set_layout(ws, sheet, n, moved)
    spans, line_merges = _merge_static(ws, sheet, formats, moved)
    heights = dict(sheet.row_heights)
    widths = _column_widths(sheet)
    needed: dict[int, float] = {}
    for cell in sheet.cells:
        written = _write_static(ws, cell, moved(cell.row), header, formats)
        wrap = _wrap_of(cell, widths, spans)
        if wrap is not None and isinstance(written, str):
            height = _text_height(written, *wrap)
            row = moved(cell.row)
            if height > heights.get(cell.row, _DEFAULT_ROW_HEIGHT) and height > needed.get(row, 0):
                needed[row] = height
    writers = _record_writers(ws, sheet, formats, header, prefix, fields)
    wraps = [(i, w) for i, c in enumerate(sheet.line_cells) if (w := _wrap_of(c, widths, spans)) is not None]
    protos = {c.col: c for c in sheet.line_cells}
    merge_formats = [
        (c1, c2, formats.get(protos[c1].style, protos[c1].field_kind) if c1 in protos else None)
        for c1, c2 in line_merges
    ]
    base_height = heights.get(line_row, _DEFAULT_ROW_HEIGHT)
    _write_records(ws, sheet, records, writers, wraps, merge_formats, base_height, needed)
    for row, height in needed.items():
        ws.set_row(row, height)
    _finish_sheet(ws, sheet, n, moved, header, formats, draft)


def _footer_text(text: str, header: Mapping[str, Any], digits: int) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in HEADER_FIELDS:
            return m.group(0)
        return _as_text(header[name], HEADER_FIELDS[name], digits).replace("&", "&&")

    return FIELD_PATTERN.sub(value, text)


def _apply_page(ws: Any, page: Mapping[str, Any], header: Mapping[str, Any], digits: int) -> None:
    if page.get("orientation") == "landscape":
        ws.set_landscape()
    elif page.get("orientation") == "portrait":
        ws.set_portrait()
    if "paper" in page:
        ws.set_paper(page["paper"])
    if "fit" in page:
        ws.fit_to_pages(*page["fit"])
    if "margins" in page:
        ws.set_margins(*page["margins"])
    if "header" in page:
        ws.set_header(
            _footer_text(page["header"], header, digits), {"margin": page.get("header_margin", 0.3)}
        )
    if "footer" in page:
        ws.set_footer(
            _footer_text(page["footer"], header, digits), {"margin": page.get("footer_margin", 0.3)}
        )
    if "repeat_rows" in page:
        ws.repeat_rows(*page["repeat_rows"])
    if page.get("center"):
        ws.center_horizontally()
    if page.get("hide_gridlines"):
        ws.hide_gridlines(2)
    if "zoom" in page:
        ws.set_zoom(page["zoom"])
    if "tab_color" in page:
        ws.set_tab_color(page["tab_color"])


def workbook_bytes(invoice: Invoice, template: Template, draft: bool = False) -> bytes:
    buffer = io.BytesIO()
    wb = text_safe_workbook(buffer)
    created = dt.datetime.combine(invoice.invoice_date, dt.time())
    wb.set_properties(
        {
            "title": f"{invoice.title} {invoice.invoice_number}",
            "company": invoice.billing_entity.name,
            "created": created,
        }
    )
    formats = _Formats(wb, invoice.currency)
    header = _header_values(invoice, draft)
    _write_sheet(wb, template.invoice, header, sheet_lines(invoice), "line", LINE_FIELDS, formats, draft)
    _write_sheet(wb, template.detail, header, invoice.items, "item", ITEM_FIELDS, formats, draft)
    wb.close()
    return buffer.getvalue()


def as_template(template: Path | Template | None) -> Template:
    return template if isinstance(template, Template) else load_template(template)


def write_invoice_workbook(
    invoice: Invoice, path: Path, template: Path | None = None, *, draft: bool = False
) -> None:
    """Write one invoice (sheets ``Invoice`` and ``Detail``) to ``path`` in the template's look.

    The file appears complete or not at all. ``OutputError`` if ``path`` resolves (say through a
    symbolic link) outside the folder it names, or cannot be written.
    """
    path = Path(path)
    check_contained(path, path.parent)
    write_atomically(path, workbook_bytes(invoice, as_template(template), draft))

"""SPEC section 5: the Excel outputs — one workbook per invoice, and ``summary.xlsx``.

The look comes from a layout template (``data/templates/invoice_template.xlsx``) that finance can
restyle in Excel without code. Its sheets ``Invoice`` and ``Detail`` are drawn the way the output
should look; a cell holding ``{field}`` is filled from the invoice (typed: dates are dates, amounts
are numbers in the cell's number format, where ``{currency}`` stands for the invoice's currency and
the decimal places follow its minor unit). Text around fields is kept (``Tax {tax_rate} %``). One
row of each sheet is the *line row*: its ``{line.*}`` (Invoice) or ``{item.*}`` (Detail) fields
repeat once per invoice line or source item, and everything below it moves down. Fonts, fills,
borders, alignment, number formats, column widths, row heights, merged cells, pictures (a logo),
frozen panes, the autofilter and the page setup are copied. Other sheets (the template's notes) are
ignored. ``build_default_template`` is the factory look; ``make_template.py`` saves it.

The template is read once per file version with openpyxl; the invoices are written with
xlsxwriter (an order of magnitude faster), in two processes when the month is large.

Text that comes from the inputs is always written as a text cell, never a formula, and cells whose
text starts with ``= + - @`` (or a tab or carriage return) also get Excel's quote prefix.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import functools
import io
import math
import multiprocessing
import os
import re
import sys
import tempfile
import textwrap
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol

from billing_lib.core.consolidate import InvoiceSet
from billing_lib.core.documents import date_text, line_order
from billing_lib.domain.errors import OutputError
from billing_lib.domain.money import minor_digits
from billing_lib.domain.parties import DEFAULT_EXEMPTION, terms_days
from billing_lib.domain.records import Invoice, InvoiceLine
from billing_lib.io import locations
from billing_lib.io.children import die_with_parent
from billing_lib.io.filenames import check_contained, output_path
from billing_lib.io.outfolder import make_readable
from billing_lib.io.snapshot import to_json

DEFAULT_TEMPLATE = locations.TEMPLATE_DIR / "invoice_template.xlsx"
INVOICE_SHEET = "Invoice"
DETAIL_SHEET = "Detail"

# What a template cell may name. Kinds decide how a value is written: text as text, dates as dates,
# money and quantities as numbers with a number format.
HEADER_FIELDS: dict[str, str] = {
    "title": "text", "invoice_number": "text", "invoice_date": "date", "period": "text",
    "customer_id": "text", "customer_name": "text", "customer_address": "text", "customer_tax_id": "text",
    "customer_address_1": "text", "customer_address_2": "text", "customer_address_3": "text",
    "customer_address_4": "text", "entity_name": "text", "entity_address": "text", "entity_tax_id": "text",
    "entity_address_1": "text", "entity_address_2": "text", "entity_address_3": "text",
    "entity_address_4": "text", "po_numbers": "text", "currency": "text", "payment_terms": "text",
    "billing_contact": "text", "method": "text", "group_key": "text", "net": "money", "tax": "money",
    "total": "money", "tax_rate": "percent", "line_count": "number", "item_count": "number",
    "due_date": "date", "vat_label": "text", "vat_exemption": "text", "draft_mark": "text",
}  # fmt: skip
LINE_FIELDS: dict[str, str] = {
    "date": "date", "dates": "text", "description": "text", "po_number": "text", "quantity": "quantity",
    "unit_price": "money", "amount": "money", "item_count": "number",
}  # fmt: skip
ITEM_FIELDS: dict[str, str] = {
    "source_table": "text", "item_id": "text", "date": "date", "description": "text", "po_number": "text",
    "quantity": "quantity", "unit_price": "money", "amount": "money", "contract_id": "text",
    "project_id": "text", "ticket_id": "text", "resource_id": "text", "billing_code": "text",
}  # fmt: skip
_DEFAULT_FORMATS = {"date": "yyyy-mm-dd", "money": "#,##0.00", "quantity": "#,##0.00##", "percent": "0.##"}
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_MONEY_PLACES = re.compile(r"0\.0+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH_ORDINAL = dt.date(1899, 12, 30).toordinal()
_MAX_ROWS = 1_048_576
PARALLEL_MIN_ITEMS = 5_000  # below this a second process costs more than it saves


def excel_serial(day: dt.date) -> int:
    """The Excel serial number of a date (what a date cell stores)."""
    return day.toordinal() - _EXCEL_EPOCH_ORDINAL


def is_formula_like(text: str) -> bool:
    """Whether Excel or LibreOffice would read this text typed into a cell as a formula."""
    return text.startswith(_FORMULA_START)


# --- file names: billing_lib.io.filenames (re-exported here for callers of the writer) ------------------


# --- the template ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cell:
    row: int
    col: int
    kind: str  # "text", "number", "date", "blank", "field", "mixed"
    value: Any  # literal value, field name (``date`` for ``{line.date}``) or text with fields
    field_kind: str  # how a field is written: see HEADER_FIELDS; "" for literals
    style: tuple[tuple[str, Any], ...]  # xlsxwriter format properties
    record: bool = False  # a field of the repeating line / item, not of the invoice


@dataclass(frozen=True, slots=True)
class _Image:
    row: int
    col: int
    data: bytes
    x_offset: int
    y_offset: int
    x_scale: float
    y_scale: float


@dataclass(frozen=True, slots=True)
class _Sheet:
    name: str
    cells: tuple[_Cell, ...]
    line_row: int  # the template row repeated per line / item
    line_cells: tuple[_Cell, ...]
    columns: tuple[tuple[int, int, float | None, bool], ...]  # first, last, width, hidden
    row_heights: tuple[tuple[int, float], ...]
    default_row_height: float | None
    merges: tuple[tuple[int, int, int, int], ...]
    images: tuple[_Image, ...]
    freeze: tuple[int, int] | None
    autofilter: tuple[int, int, int, int] | None
    page: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed layout template (picklable, so worker processes get it without re-reading the file)."""

    source: str
    invoice: _Sheet
    detail: _Sheet


_BORDER_STYLES = {
    "thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7, "mediumDashed": 8,
    "dashDot": 9, "mediumDashDot": 10, "dashDotDot": 11, "mediumDashDotDot": 12, "slantDashDot": 13,
}  # fmt: skip
_H_ALIGN = {"left": "left", "center": "center", "right": "right", "fill": "fill", "justify": "justify",
            "centerContinuous": "center_across", "distributed": "distributed"}  # fmt: skip
_V_ALIGN = {"top": "top", "center": "vcenter", "bottom": "bottom", "justify": "vjustify",
            "distributed": "vdistributed"}  # fmt: skip
_UNDERLINE = {"single": 1, "double": 2, "singleAccounting": 33, "doubleAccounting": 34}
_THEME_ORDER = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
                "hlink", "folHlink")  # fmt: skip


def _theme_colours(theme_xml: bytes | str | None) -> list[str]:
    if not theme_xml:
        from openpyxl.writer.theme import theme_xml as default_theme

        theme_xml = default_theme
    ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    root = ET.fromstring(theme_xml)
    scheme = root.find(".//a:clrScheme", ns)
    colours: dict[str, str] = {}
    if scheme is not None:
        for child in scheme:
            tag = child.tag.split("}")[-1]
            rgb = child.find("a:srgbClr", ns)
            sys_clr = child.find("a:sysClr", ns)
            if rgb is not None:
                colours[tag] = rgb.get("val", "000000")
            elif sys_clr is not None:
                colours[tag] = sys_clr.get("lastClr", "000000")
    return [colours.get(name, "000000") for name in _THEME_ORDER]


def _tinted(rgb: str, tint: float) -> str:
    r, g, b = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    h, lum, s = colorsys.rgb_to_hls(r, g, b)
    lum = lum * (1 + tint) if tint < 0 else lum * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(h, lum, s)
    return "".join(f"{round(v * 255):02X}" for v in (r, g, b))


def _colour(colour: Any, theme: list[str]) -> str | None:
    """An openpyxl colour (rgb, theme + tint or indexed) as ``#RRGGBB``; None when unset or automatic."""
    if colour is None:
        return None
    kind = getattr(colour, "type", None)
    rgb: str | None = None
    if kind == "rgb" and isinstance(colour.rgb, str) and len(colour.rgb) in (6, 8):
        rgb = colour.rgb[-6:]
    elif kind == "theme" and isinstance(colour.theme, int) and 0 <= colour.theme < len(theme):
        rgb = theme[colour.theme]
    elif kind == "indexed" and isinstance(colour.indexed, int):
        from openpyxl.styles.colors import COLOR_INDEX

        if colour.indexed < 64:
            rgb = COLOR_INDEX[colour.indexed][-6:]
    if rgb is None:
        return None
    tint = float(getattr(colour, "tint", 0) or 0)
    return "#" + (_tinted(rgb, tint) if tint else rgb).upper()


def _style_of(cell: Any, theme: list[str]) -> tuple[tuple[str, Any], ...]:
    """An openpyxl cell's look as xlsxwriter format properties."""
    props: dict[str, Any] = {}
    font = cell.font
    if font is not None:
        if font.name:
            props["font_name"] = font.name
        if font.sz:
            props["font_size"] = float(font.sz)
        if font.b:
            props["bold"] = True
        if font.i:
            props["italic"] = True
        if font.u:
            props["underline"] = _UNDERLINE.get(font.u, 1)
        if font.strike:
            props["font_strikeout"] = True
        if font.vertAlign in ("superscript", "subscript"):
            props["font_script"] = 1 if font.vertAlign == "superscript" else 2
        colour = _colour(font.color, theme)
        if colour:
            props["font_color"] = colour
    fill = cell.fill
    if fill is not None and getattr(fill, "fill_type", None) == "solid":
        colour = _colour(fill.fgColor, theme)
        if colour:
            props["bg_color"] = colour
    border = cell.border
    if border is not None:
        for side_name in ("left", "right", "top", "bottom"):
            side = getattr(border, side_name)
            if side is not None and side.style in _BORDER_STYLES:
                props[side_name] = _BORDER_STYLES[side.style]
                colour = _colour(side.color, theme)
                if colour:
                    props[f"{side_name}_color"] = colour
    align = cell.alignment
    if align is not None:
        if align.horizontal in _H_ALIGN:
            props["align"] = _H_ALIGN[align.horizontal]
        if align.vertical in _V_ALIGN:
            props["valign"] = _V_ALIGN[align.vertical]
        if align.wrap_text:
            props["text_wrap"] = True
        if align.shrink_to_fit:
            props["shrink"] = True
        if align.indent:
            props["indent"] = int(align.indent)
        if align.text_rotation:
            props["rotation"] = int(align.text_rotation)
    if cell.number_format and cell.number_format != "General":
        props["num_format"] = cell.number_format
    return tuple(sorted(props.items()))


def _parse_cell(
    cell: Any, style: tuple[tuple[str, Any], ...], fields: Mapping[str, str], where: str
) -> _Cell:
    value = cell.value
    row, col = cell.row - 1, cell.column - 1
    if value is None or value == "":
        return _Cell(row, col, "blank", None, "", style)
    if isinstance(value, bool | int | float | Decimal):
        return _Cell(row, col, "number", float(value), "", style)
    if isinstance(value, dt.datetime | dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        return _Cell(row, col, "date", day, "", style)
    text = str(value)
    if cell.data_type == "f" or (text.startswith("=") and cell.data_type != "s"):
        raise OutputError(
            f"template {where}: formulas are not supported in the layout template "
            "(use fields such as {net}, {tax} and {total} instead)"
        )
    names = _FIELD.findall(text)
    for name in names:
        if name not in fields:
            known = ", ".join("{" + f + "}" for f in fields)
            raise OutputError(f"template {where}: unknown field {{{name}}}; this sheet knows {known}")
    if not names:
        return _Cell(row, col, "text", text, "", style)
    if _FIELD.fullmatch(text):
        name = names[0]
        return _Cell(row, col, "field", name.split(".", 1)[-1], fields[name], style, record="." in name)
    return _Cell(row, col, "mixed", text, "text", style)


def _parse_sheet(
    ws: Any, record_prefix: str, record_fields: Mapping[str, str], theme: list[str], source: str
) -> _Sheet:
    fields = dict(HEADER_FIELDS) | {f"{record_prefix}.{k}": v for k, v in record_fields.items()}
    merged_inner = set()
    merges = []
    for rng in ws.merged_cells.ranges:
        merges.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    merged_inner.add((r, c))
    styles: dict[int, tuple[tuple[str, Any], ...]] = {}
    cells: list[_Cell] = []
    for row in ws.iter_rows():
        for cell in row:
            if (cell.row, cell.column) in merged_inner:
                continue
            key = cell.style_id
            if key not in styles:
                styles[key] = _style_of(cell, theme)
            parsed = _parse_cell(
                cell, styles[key], fields, f"{source}, sheet {ws.title}, cell {cell.coordinate}"
            )
            if parsed.kind == "blank" and not parsed.style:
                continue
            cells.append(parsed)
    record_rows = {c.row for c in cells if c.kind in ("field", "mixed") and _names_record(c, record_prefix)}
    if len(record_rows) != 1:
        found = ", ".join(str(r + 1) for r in sorted(record_rows)) or "none"
        raise OutputError(
            f"template {source}, sheet {ws.title}: exactly one row must hold the "
            f"{{{record_prefix}.…}} fields that repeat per {record_prefix} (found rows: {found})"
        )
    line_row = record_rows.pop()
    columns = []
    for dim in ws.column_dimensions.values():
        if dim.min is None:
            continue
        width = float(dim.width) if dim.customWidth and dim.width else None
        if width is None and not dim.hidden:
            continue
        columns.append((dim.min - 1, dim.max - 1, width, bool(dim.hidden)))
    heights = tuple((r - 1, float(d.height)) for r, d in ws.row_dimensions.items() if d.height is not None)
    images = tuple(_image_of(img) for img in getattr(ws, "_images", ()))
    freeze = None
    if ws.freeze_panes:
        freeze = xl_cell_to_rowcol(ws.freeze_panes)
    autofilter = None
    if ws.auto_filter is not None and ws.auto_filter.ref:
        first, _, last = ws.auto_filter.ref.partition(":")
        r1, c1 = xl_cell_to_rowcol(first)
        r2, c2 = xl_cell_to_rowcol(last or first)
        autofilter = (r1, c1, r2, c2)
    default_height = ws.sheet_format.defaultRowHeight if ws.sheet_format.customHeight else None
    return _Sheet(
        name=ws.title,
        cells=tuple(c for c in cells if c.row != line_row),
        line_row=line_row,
        line_cells=tuple(c for c in cells if c.row == line_row),
        columns=tuple(columns),
        row_heights=heights,
        default_row_height=default_height,
        merges=tuple(merges),
        images=images,
        freeze=freeze,
        autofilter=autofilter,
        page=_page_of(ws),
    )


def _names_record(cell: _Cell, prefix: str) -> bool:
    """Whether a cell holds a field of the repeating record (``{line.…}`` / ``{item.…}``)."""
    if cell.kind == "field":
        return cell.record
    return cell.kind == "mixed" and f"{{{prefix}." in str(cell.value)


def _image_of(img: Any) -> _Image:
    anchor = img.anchor
    start = getattr(anchor, "_from", None)
    row = start.row if start is not None else 0
    col = start.col if start is not None else 0
    x_off = int((start.colOff or 0) / 9525) if start is not None else 0
    y_off = int((start.rowOff or 0) / 9525) if start is not None else 0
    data = img._data()
    native_w, native_h = img.width or 1, img.height or 1
    ext = getattr(anchor, "ext", None)
    shown_w, shown_h = native_w, native_h
    if ext is not None and getattr(ext, "width", None):
        shown_w, shown_h = ext.width / 9525, ext.height / 9525
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data)) as pil:
            native_w, native_h = pil.size
    except Exception:  # a picture we cannot measure is placed at its stated size
        pass
    return _Image(row, col, data, x_off, y_off, shown_w / native_w, shown_h / native_h)


def _page_of(ws: Any) -> tuple[tuple[str, Any], ...]:
    page: dict[str, Any] = {}
    setup = ws.page_setup
    if setup.orientation in ("portrait", "landscape"):
        page["orientation"] = setup.orientation
    if setup.paperSize:
        page["paper"] = int(setup.paperSize)
    props = ws.sheet_properties.pageSetUpPr
    if props is not None and props.fitToPage:
        page["fit"] = (
            int(setup.fitToWidth if setup.fitToWidth is not None else 1),
            int(setup.fitToHeight if setup.fitToHeight is not None else 1),
        )
    m = ws.page_margins
    page["margins"] = (m.left, m.right, m.top, m.bottom)
    page["header_margin"], page["footer_margin"] = m.header, m.footer
    for attr, key in ((ws.oddHeader, "header"), (ws.oddFooter, "footer")):
        parts = [
            (code, getattr(attr, part).text)
            for code, part in (("&L", "left"), ("&C", "center"), ("&R", "right"))
        ]
        if any(text for _, text in parts):
            page[key] = "".join(code + (text or "") for code, text in parts)
    if ws.print_title_rows:
        first, _, last = str(ws.print_title_rows).replace("$", "").partition(":")
        page["repeat_rows"] = (int(first) - 1, int(last or first) - 1)
    if ws.print_options.horizontalCentered:
        page["center"] = True
    if ws.sheet_view.showGridLines is False:
        page["hide_gridlines"] = True
    if ws.sheet_view.zoomScale:
        page["zoom"] = int(ws.sheet_view.zoomScale)
    if ws.sheet_properties.tabColor is not None:
        tab = _colour(ws.sheet_properties.tabColor, [])
        if tab:
            page["tab_color"] = tab
    return tuple(sorted(page.items()))


def _find_sheet(wb: Any, name: str, source: str) -> Any:
    for ws in wb.worksheets:
        if ws.title.strip().casefold() == name.casefold():
            return ws
    raise OutputError(f"template {source} has no sheet named {name!r} (it has {', '.join(wb.sheetnames)})")


def parse_template(wb: Any, source: str = "(built-in template)") -> Template:
    """Read the layout from an openpyxl workbook."""
    theme = _theme_colours(getattr(wb, "loaded_theme", None))
    invoice = _parse_sheet(_find_sheet(wb, INVOICE_SHEET, source), "line", LINE_FIELDS, theme, source)
    detail = _parse_sheet(_find_sheet(wb, DETAIL_SHEET, source), "item", ITEM_FIELDS, theme, source)
    return Template(source, invoice, detail)


@functools.lru_cache(maxsize=8)
def _template_at(path: str, mtime_ns: int, size: int) -> Template:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise OutputError(f"cannot read the invoice template {path}: {exc}") from exc
    return parse_template(wb, path)


@functools.lru_cache(maxsize=1)
def _builtin_template() -> Template:
    return parse_template(build_default_template())


def load_template(path: Path | None = None) -> Template:
    """The parsed template at ``path`` (default ``DEFAULT_TEMPLATE``, else the built-in look).

    Read once per version of the file (path, modification time and size).
    """
    if path is None:
        if not DEFAULT_TEMPLATE.exists():
            return _builtin_template()
        path = DEFAULT_TEMPLATE
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise OutputError(f"cannot read the invoice template {path}: {exc.strerror or exc}") from exc
    return _template_at(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


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
            if not num and kind in _DEFAULT_FORMATS:
                num = _DEFAULT_FORMATS[kind]
            if num:
                num = num.replace("{currency}", self.currency)
                if kind == "money":
                    places = "0" + ("." + "0" * self.digits if self.digits else "")
                    num = _MONEY_PLACES.sub(places, num)
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
                write_number(r, c, v.toordinal() - _EXCEL_EPOCH_ORDINAL, fmt)
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
        elif v.startswith(_FORMULA_START):
            write_string(r, c, v, quoted)
        else:
            write_string(r, c, v, fmt)
        return v

    return text_cell


def _write_static(ws: Any, cell: _Cell, row: int, values: Mapping[str, Any], formats: _Formats) -> Any:
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
    names = _FIELD.findall(cell.value)
    parts = {n: _as_text(values[n], HEADER_FIELDS[n], formats.digits) for n in names}
    if not any(parts.values()):
        ws.write_blank(row, cell.col, None, formats.get(cell.style))
        return None
    text = _FIELD.sub(lambda m: parts[m.group(1)], cell.value)
    return _writer(ws, formats, "text", cell.style)(row, cell.col, text)


def _record_writers(
    ws: Any,
    sheet: _Sheet,
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

                return write(r, col, _FIELD.sub(value, template))

            out.append(mixed)
        else:
            static = cell
            values = header

            def other(r: int, rec: Any, static: _Cell = static, values: Mapping[str, Any] = values) -> Any:
                return _write_static(ws, static, r, values, formats)

            out.append(other)
    return out


_DEFAULT_ROW_HEIGHT = 15.0
_DEFAULT_COLUMN_WIDTH = 8.43


def _column_widths(sheet: _Sheet) -> dict[int, float]:
    widths: dict[int, float] = {}
    for first, last, width, hidden in sheet.columns:
        for col in range(first, min(last, 200) + 1):
            widths[col] = 0.0 if hidden else (width or _DEFAULT_COLUMN_WIDTH)
    return widths


def _wrap_of(
    cell: _Cell, widths: Mapping[int, float], spans: Mapping[tuple[int, int], int]
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


def _write_sheet(
    wb: Any,
    sheet: _Sheet,
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
    if line_row + n + 100 >= _MAX_ROWS:
        raise OutputError(f"{header['invoice_number']}: {n} {prefix}s do not fit on one Excel sheet")

    def moved(row: int) -> int:
        """Where a template row lands once the line row has become ``n`` rows."""
        return row if row <= line_row else row + n - 1

    if sheet.default_row_height:
        ws.set_default_row(sheet.default_row_height)
    for first, last, width, hidden in sheet.columns:
        ws.set_column(first, last, width, None, {"hidden": True} if hidden else None)
    for row, height in sheet.row_heights:
        for r in range(line_row, line_row + n) if row == line_row else (moved(row),):
            ws.set_row(r, height)
    top_left = {(c.row, c.col): c for c in sheet.cells}
    spans: dict[tuple[int, int], int] = {}  # template (row, col) -> last column of its merged area
    line_merges = []
    for r1, c1, r2, c2 in sheet.merges:
        spans[(r1, c1)] = c2
        if r1 == r2 == line_row:
            line_merges.append((c1, c2))
            continue
        cell = top_left.get((r1, c1))
        fmt = formats.get(cell.style, cell.field_kind) if cell is not None else None
        ws.merge_range(moved(r1), c1, moved(r2), c2, "", fmt)
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
    base_height = heights.get(line_row, _DEFAULT_ROW_HEIGHT)
    protos = {c.col: c for c in sheet.line_cells}
    merge_formats = [
        (c1, c2, formats.get(protos[c1].style, protos[c1].field_kind) if c1 in protos else None)
        for c1, c2 in line_merges
    ]
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
    for row, height in needed.items():
        ws.set_row(row, height)
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
        ws.autofilter(r1, c1, moved(r2) if r2 > line_row else max(r2, line_row + n - 1), c2)
    page = dict(sheet.page)
    if draft:  # every printed page of a draft says so, whatever the template's header
        page["header"] = '&C&"-,Bold"&14&KC00000DRAFT - not a valid invoice'
    _apply_page(ws, page, header, formats.digits)


def _footer_text(text: str, header: Mapping[str, Any], digits: int) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in HEADER_FIELDS:
            return m.group(0)
        return _as_text(header[name], HEADER_FIELDS[name], digits).replace("&", "&&")

    return _FIELD.sub(value, text)


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


def _text_safe_workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """An in-memory xlsxwriter workbook that never turns a string into a formula, number or link."""
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    return xlsxwriter.Workbook(buffer, options)


def _workbook_bytes(invoice: Invoice, template: Template, draft: bool = False) -> bytes:
    buffer = io.BytesIO()
    wb = _text_safe_workbook(buffer)
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


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fresh temporary file in the same folder and a rename."""
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".xlsx", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        make_readable(Path(tmp))  # mkstemp makes 0600; the shared billing folder needs the user's umask
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _template(template: Path | Template | None) -> Template:
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
    _write_atomically(path, _workbook_bytes(invoice, _template(template), draft))


# --- writing a run's invoices ---------------------------------------------------------------------


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
        _write_atomically(paths[record.invoice_number], _workbook_bytes(record, template, draft))
        documents[record.invoice_number] = to_json(record)
    return documents


def _chunks(invoice_set: InvoiceSet, target_items: int) -> list[InvoiceSet]:
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
                [],
                invoice_set.companies,
                invoice_set.entities,
                invoice_set.invoice_date,
            )
        )
    return parts


def _pool_context() -> Any:
    # fork where the platform has it: workers start at once and scripts need no ``__main__`` guard;
    # elsewhere (macOS, Windows) the platform default, spawn
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)


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
    done: set[int] = set()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=die_with_parent)
    try:
        futures = {
            pool.submit(
                _write_chunk, part, template, {n: paths[n] for n in part.invoices["invoice_number"]}, draft
            ): i
            for i, part in enumerate(parts)
        }
        for future in as_completed(futures):
            written = future.result()  # a worker's error is raised here
            documents.update(written)
            bar.update(len(written))
            done.add(futures[future])
    except BrokenProcessPool:
        warnings.warn("the invoice writer processes stopped; writing the rest in this process", stacklevel=3)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


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
    tpl = _template(template)
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
        parts = _chunks(invoice_set, target) if numbers else []
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


# --- summary.xlsx ---------------------------------------------------------------------------------

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Valid, distinct Excel sheet names (31 characters, none of ``[]:*?/\\``, not ``History``)."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = _SHEET_NAME_BAD.sub("_", str(name)).strip("' ") or "Sheet"
        if base.casefold() == "history":
            base = "History_"
        candidate = base[:31]
        i = 2
        while candidate.casefold() in taken:
            suffix = f" ({i})"
            candidate = base[: 31 - len(suffix)] + suffix
            i += 1
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(value)


def _write_value(ws: Any, row: int, col: int, value: Any, formats: Mapping[str, Any]) -> int:
    """Write one frame value as its type (text always as text); returns its width in characters."""
    if _is_missing(value):
        return 0
    if isinstance(value, bool | np.bool_):
        ws.write_boolean(row, col, bool(value))
        return 5
    if isinstance(value, Decimal):
        ws.write_number(row, col, float(value), formats["money"])
        return len(f"{value:,.2f}")
    if isinstance(value, int | np.integer):
        ws.write_number(row, col, int(value), formats["integer"])
        return len(f"{int(value):,}")
    if isinstance(value, float | np.floating):
        ws.write_number(row, col, float(value), formats["number"])
        return len(f"{float(value):,.2f}")
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        naive = value.replace(tzinfo=None)
        if naive.time() == dt.time():
            ws.write_number(row, col, excel_serial(naive.date()), formats["date"])
            return 10
        ws.write_datetime(row, col, naive, formats["datetime"])
        return 16
    if isinstance(value, dt.date):
        ws.write_number(row, col, excel_serial(value), formats["date"])
        return 10
    text = str(value)
    if text:
        ws.write_string(row, col, text, formats["quoted"] if text.startswith(_FORMULA_START) else None)
    return len(text)


def _table_headers(columns: Iterable[Any]) -> list[str]:
    """Distinct, non-empty header texts (an Excel table needs them)."""
    seen: dict[str, int] = {}
    out = []
    for column in columns:
        header = str(column) or "column"
        seen[header.casefold()] = seen.get(header.casefold(), 0) + 1
        count = seen[header.casefold()]
        out.append(header if count == 1 else f"{header} ({count})")
    return out


def _write_frame(ws: Any, frame: pd.DataFrame, formats: Mapping[str, Any]) -> None:
    """The frame as an Excel table: header row with filter buttons, frozen, columns as wide as their text."""
    headers = _table_headers(frame.columns)
    if not headers:
        ws.write_string(0, 0, "(no columns)")
        return
    if len(frame) + 1 > _MAX_ROWS:
        raise OutputError(f"sheet {ws.get_name()}: {len(frame)} rows do not fit on one Excel sheet")
    for col in range(len(headers)):
        width = len(headers[col]) + 4  # room for the filter button
        for row, value in enumerate(frame.iloc[:, col].to_numpy(dtype=object), start=1):
            shown = _write_value(ws, row, col, value, formats)
            if row <= 2000:
                width = max(width, shown + 2)
        ws.set_column(col, col, min(max(width, 8), 60))
    ws.add_table(0, 0, max(len(frame), 1), len(headers) - 1,
                 {"columns": [{"header": h} for h in headers], "style": "Table Style Medium 2"})  # fmt: skip
    ws.freeze_panes(1, 0)


def _png_height(path: Path) -> int | None:
    with open(path, "rb") as handle:
        head = handle.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(head[20:24], "big")
    return None


def write_summary(path: Path, sheets: Mapping[str, pd.DataFrame], images: Sequence[Path] = ()) -> None:
    """``summary.xlsx``: each frame a sheet formatted as an Excel table (filter buttons, frozen header,
    column widths; text as text), and the images (PNG charts) one below the other on a sheet ``Charts``."""
    path = Path(path)
    check_contained(path, path.parent)
    for image in images:
        if not Path(image).is_file():
            raise OutputError(f"chart image {image} does not exist")
    buffer = io.BytesIO()
    wb = _text_safe_workbook(buffer)
    formats = {
        "integer": wb.add_format({"num_format": "#,##0"}),
        "number": wb.add_format({"num_format": "#,##0.00##"}),
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "quoted": wb.add_format({"quote_prefix": True}),
    }
    names = _sheet_names(list(sheets) + (["Charts"] if images else []))
    for name, frame in zip(names, sheets.values(), strict=False):
        ws = wb.add_worksheet(name)
        _write_frame(ws, frame, formats)
    if images:
        ws = wb.add_worksheet(names[-1])
        row = 1
        for image in images:
            ws.insert_image(row, 1, str(image), {"object_position": 3})
            height = _png_height(Path(image))
            row += (math.ceil(height / 20) if height else 30) + 2
    wb.close()
    _write_atomically(path, buffer.getvalue())


# --- the factory template -------------------------------------------------------------------------


def build_default_template() -> Any:
    """The factory layout as an openpyxl workbook.

    ``make_template.py`` saves it as the template file; it is also the look when no template file exists.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.properties import PageSetupProperties

    navy, grey, rule = "1F3864", "595959", "BFBFBF"
    base = "Calibri"
    money_total = '#,##0.00 "{currency}";[Red]-#,##0.00 "{currency}"'
    money = "#,##0.00;[Red]-#,##0.00"

    def font(size: float = 10, bold: bool = False, colour: str = "000000", italic: bool = False) -> Font:
        return Font(name=base, size=size, bold=bold, color=colour, italic=italic)

    wb = Workbook()
    ws = wb.active
    ws.title = INVOICE_SHEET
    for col, width in zip("ABCDEF", (12, 44, 16, 11, 14, 17), strict=True):
        ws.column_dimensions[col].width = width

    def put(
        ref: str,
        value: Any,
        f: Font | None = None,
        align: str | None = None,
        fmt: str | None = None,
        wrap: bool = False,
        fill: str | None = None,
        border: Border | None = None,
        top: bool = False,
    ) -> None:
        cell = ws[ref]
        cell.value = value
        cell.font = f or font()
        cell.alignment = Alignment(
            horizontal=align, vertical="top" if top or wrap else "center", wrap_text=wrap
        )
        if fmt:
            cell.number_format = fmt
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        if border:
            cell.border = border

    label = font(9, colour=grey)
    value = font(10)
    put("A1", "{entity_name}", font(16, True, navy))
    put("D1", "{title}", font(22, True, navy), "right")
    ws.merge_cells("D1:F1")
    ws.row_dimensions[1].height = 30
    put("A2", "{entity_address_1}", label)
    put("A3", "{entity_address_2}", label)
    put("A4", "{entity_address_3}", label)
    put("A5", "VAT number {entity_tax_id}", label)
    put("A7", "BILL TO", font(9, True, grey))
    put("A8", "{customer_name}", font(11, True))
    put("A9", "{customer_address_1}", value)
    put("A10", "{customer_address_2}", value)
    put("A11", "{customer_address_3}", value)
    put("A12", "{customer_address_4}", value)
    put("A13", "Attn. {billing_contact}", value)
    put("A14", "VAT number {customer_tax_id}", label)
    facts = (
        ("{title} number", "{invoice_number}", None, True),
        ("{title} date", "{invoice_date}", "d mmmm yyyy", False),
        ("Period", "{period}", None, False),
        ("Customer number", "{customer_id}", None, False),
        ("Due date", "{due_date}", "d mmmm yyyy", True),
        ("Currency", "{currency}", None, False),
        ("Payment terms", "{payment_terms}", None, False),
    )
    for i, (text, field, fmt, strong) in enumerate(facts):
        row = 7 + i
        put(f"D{row}", text, label)
        put(f"E{row}", field, font(10, strong), "right", fmt)
        ws.merge_cells(f"E{row}:F{row}")
    put("A16", "Purchase order(s): {po_numbers}", font(10, True), wrap=False)
    ws.merge_cells("A16:F16")
    head_border = Border(bottom=Side("medium", color=navy))
    for col, text, align in zip(
        "ABCDEF",
        ("Date", "Description", "PO number", "Quantity", "Unit price ({currency})", "Amount ({currency})"),
        ("left", "left", "left", "right", "right", "right"),
        strict=True,
    ):
        put(f"{col}18", text, font(10, True, "FFFFFF"), align, fill=navy, border=head_border)
    ws.row_dimensions[18].height = 20
    line_border = Border(bottom=Side("thin", color=rule))
    for col, field, fmt, align in (
        ("A", "{line.dates}", None, "left"),
        ("B", "{line.description}", None, "left"),
        ("C", "{line.po_number}", None, "left"),
        ("D", "{line.quantity}", "#,##0.00##", "right"),
        ("E", "{line.unit_price}", money, "right"),
        ("F", "{line.amount}", money, "right"),
    ):
        put(f"{col}19", field, font(10), align, fmt, wrap=col == "B", border=line_border, top=True)
    totals = (
        ("Net amount", "{net}", False),
        ("{vat_label}", "{tax}", False),
        ("Total", "{total}", True),
    )
    for i, (text, field, strong) in enumerate(totals):
        row = 21 + i
        border = Border(top=Side("thin", color=navy), bottom=Side("double", color=navy)) if strong else None
        put(
            f"D{row}",
            text,
            font(11 if strong else 10, strong, navy if strong else "000000"),
            "right",
            border=border,
        )
        ws.merge_cells(f"D{row}:E{row}")
        put(
            f"F{row}",
            field,
            font(11 if strong else 10, strong, navy if strong else "000000"),
            "right",
            money_total,
            border=border,
        )
    put("A25", "{vat_exemption}", font(9, italic=True))
    ws.merge_cells("A25:F25")
    put(
        "A26",
        "Payment terms: {payment_terms}. Please quote {invoice_number} with your payment or any question.",
        font(9, colour=grey),
    )
    ws.merge_cells("A26:F26")
    put("A27", "Bank: Example Bank N.V. · IBAN NL00 EXMP 0123 4567 89 · BIC EXMPNL2A", font(9, colour=grey))
    ws.merge_cells("A27:F27")
    put("A28", "Questions about this invoice? billing@example.com · +31 20 000 0000", font(9, colour=grey))
    ws.merge_cells("A28:F28")
    ws.sheet_view.showGridLines = False
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.8
    ws.oddFooter.center.text = "{entity_name} · {invoice_number} · page &P of &N"
    ws.oddFooter.center.size = 8
    ws.print_title_rows = "18:18"

    detail = wb.create_sheet(DETAIL_SHEET)
    columns = (
        ("Source", "{item.source_table}", 14, None),
        ("Item id", "{item.item_id}", 10, None),
        ("Date", "{item.date}", 11, "dd-mm-yyyy"),
        ("Description", "{item.description}", 48, None),
        ("PO number", "{item.po_number}", 15, None),
        ("Quantity", "{item.quantity}", 10, "#,##0.00##"),
        ("Unit price", "{item.unit_price}", 12, money),
        ("Amount ({currency})", "{item.amount}", 14, money),
        ("Contract", "{item.contract_id}", 10, None),
        ("Project", "{item.project_id}", 10, None),
        ("Ticket", "{item.ticket_id}", 10, None),
        ("Resource", "{item.resource_id}", 18, None),
        ("Billing code", "{item.billing_code}", 18, None),
    )
    c1 = detail["A1"]
    c1.value = "Items on {title} {invoice_number}"
    c1.font = font(13, True, navy)
    c2 = detail["A2"]
    c2.value = "{customer_name} · period {period} · {item_count} items · net {net} {currency}"
    c2.font = font(9, colour=grey)
    for i, (text, field, width, fmt) in enumerate(columns):
        letter = chr(ord("A") + i)
        detail.column_dimensions[letter].width = width
        head = detail[f"{letter}4"]
        head.value = text
        head.font = font(10, True, "FFFFFF")
        head.fill = PatternFill("solid", fgColor=navy)
        numeric = bool(fmt) and fmt != "dd-mm-yyyy"
        indent = 1 if not numeric and i > 0 else 0  # keeps text clear of the number to its left
        head.alignment = Alignment(horizontal="right" if numeric else "left", indent=indent)
        cell = detail[f"{letter}5"]
        cell.value = field
        cell.font = font(10)
        cell.alignment = Alignment(horizontal="right" if numeric else "left", indent=indent)
        if fmt:
            cell.number_format = fmt
    detail.freeze_panes = "A5"
    detail.auto_filter.ref = "A4:M5"
    detail.page_setup.orientation = "landscape"
    detail.page_setup.paperSize = detail.PAPERSIZE_A4
    detail.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    detail.page_setup.fitToWidth, detail.page_setup.fitToHeight = 1, 0
    detail.print_title_rows = "4:4"
    detail.oddFooter.center.text = "{invoice_number} · detail · page &P of &N"

    notes = wb.create_sheet("Notes")
    notes.column_dimensions["A"].width = 110
    lines = [
        "How this template works (this sheet is not copied to invoices)",
        "",
        "Sheets 'Invoice' and 'Detail' are drawn the way every invoice workbook should look. Change fonts, "
        "colours, borders, column widths, wording and the footer text freely; insert a logo picture.",
        "A cell holding {field} is filled from the invoice. Text around a field is kept: 'Tax {tax_rate} %'.",
        "One row of each sheet repeats per invoice line ({line.…} fields) or per source item ({item.…} "
        "fields); rows below it move down.",
        "In number formats, {currency} stands for the invoice currency; the decimals follow the currency.",
        "Formulas are not supported: totals come from {net}, {tax} and {total}.",
        "",
        "Invoice fields: " + ", ".join("{" + f + "}" for f in HEADER_FIELDS),
        "Line fields: " + ", ".join("{line." + f + "}" for f in LINE_FIELDS),
        "Item fields: " + ", ".join("{item." + f + "}" for f in ITEM_FIELDS),
        "",
        "Regenerate the factory look with: python data/templates/make_template.py",
    ]
    for i, text in enumerate(lines, start=1):
        cell = notes[f"A{i}"]
        cell.value = text
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1:
            cell.font = Font(name=base, size=12, bold=True)
    return wb

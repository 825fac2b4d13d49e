"""SPEC section 5: the invoice layout template, read from an xlsx file into plain records.

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

The template is read once per file version with openpyxl; ``invoice_workbook`` writes with it.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import functools
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol

from billing_lib.domain.errors import OutputError
from billing_lib.io import locations

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
DEFAULT_FORMATS = {"date": "yyyy-mm-dd", "money": "#,##0.00", "quantity": "#,##0.00##", "percent": "0.##"}
FIELD_PATTERN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
MONEY_PLACES = re.compile(r"0\.0+")


@dataclass(frozen=True, slots=True)
class TemplateCell:
    row: int
    col: int
    kind: str  # "text", "number", "date", "blank", "field", "mixed"
    value: Any  # literal value, field name (``date`` for ``{line.date}``) or text with fields
    field_kind: str  # how a field is written: see HEADER_FIELDS; "" for literals
    style: tuple[tuple[str, Any], ...]  # xlsxwriter format properties
    record: bool = False  # a field of the repeating line / item, not of the invoice


@dataclass(frozen=True, slots=True)
class TemplateImage:
    row: int
    col: int
    data: bytes
    x_offset: int
    y_offset: int
    x_scale: float
    y_scale: float


@dataclass(frozen=True, slots=True)
class TemplateSheet:
    name: str
    cells: tuple[TemplateCell, ...]
    line_row: int  # the template row repeated per line / item
    line_cells: tuple[TemplateCell, ...]
    columns: tuple[tuple[int, int, float | None, bool], ...]  # first, last, width, hidden
    row_heights: tuple[tuple[int, float], ...]
    default_row_height: float | None
    merges: tuple[tuple[int, int, int, int], ...]
    images: tuple[TemplateImage, ...]
    freeze: tuple[int, int] | None
    autofilter: tuple[int, int, int, int] | None
    page: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed layout template (picklable, so worker processes get it without re-reading the file)."""

    source: str
    invoice: TemplateSheet
    detail: TemplateSheet


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


def _font_props(font: Any, theme: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
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
    return props


def _border_props(border: Any, theme: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for side_name in ("left", "right", "top", "bottom"):
        side = getattr(border, side_name)
        if side is not None and side.style in _BORDER_STYLES:
            props[side_name] = _BORDER_STYLES[side.style]
            colour = _colour(side.color, theme)
            if colour:
                props[f"{side_name}_color"] = colour
    return props


def _alignment_props(align: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
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
    return props


def _style_of(cell: Any, theme: list[str]) -> tuple[tuple[str, Any], ...]:
    """An openpyxl cell's look as xlsxwriter format properties."""
    props: dict[str, Any] = {}
    if cell.font is not None:
        props.update(_font_props(cell.font, theme))
    fill = cell.fill
    if fill is not None and getattr(fill, "fill_type", None) == "solid":
        colour = _colour(fill.fgColor, theme)
        if colour:
            props["bg_color"] = colour
    if cell.border is not None:
        props.update(_border_props(cell.border, theme))
    if cell.alignment is not None:
        props.update(_alignment_props(cell.alignment))
    if cell.number_format and cell.number_format != "General":
        props["num_format"] = cell.number_format
    return tuple(sorted(props.items()))


def _parse_cell(
    cell: Any, style: tuple[tuple[str, Any], ...], fields: Mapping[str, str], where: str
) -> TemplateCell:
    value = cell.value
    row, col = cell.row - 1, cell.column - 1
    if value is None or value == "":
        return TemplateCell(row, col, "blank", None, "", style)
    if isinstance(value, bool | int | float | Decimal):
        return TemplateCell(row, col, "number", float(value), "", style)
    if isinstance(value, dt.datetime | dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        return TemplateCell(row, col, "date", day, "", style)
    text = str(value)
    if cell.data_type == "f" or (text.startswith("=") and cell.data_type != "s"):
        raise OutputError(
            f"template {where}: formulas are not supported in the layout template "
            "(use fields such as {net}, {tax} and {total} instead)"
        )
    names = FIELD_PATTERN.findall(text)
    for name in names:
        if name not in fields:
            known = ", ".join("{" + f + "}" for f in fields)
            raise OutputError(f"template {where}: unknown field {{{name}}}; this sheet knows {known}")
    if not names:
        return TemplateCell(row, col, "text", text, "", style)
    if FIELD_PATTERN.fullmatch(text):
        name = names[0]
        return TemplateCell(
            row, col, "field", name.split(".", 1)[-1], fields[name], style, record="." in name
        )
    return TemplateCell(row, col, "mixed", text, "text", style)


def _merges_of(ws: Any) -> tuple[list[tuple[int, int, int, int]], set[tuple[int, int]]]:
    """The merged areas (0-based corners), and the cells inside them other than their top-left one."""
    merged_inner = set()
    merges = []
    for rng in ws.merged_cells.ranges:
        merges.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    merged_inner.add((r, c))
    return merges, merged_inner


def _cells_of(
    ws: Any, merged_inner: set[tuple[int, int]], fields: Mapping[str, str], theme: list[str], source: str
) -> list[TemplateCell]:
    """Every cell with a value or a look (each distinct style converted once), merged-over cells left out."""
    styles: dict[int, tuple[tuple[str, Any], ...]] = {}
    cells: list[TemplateCell] = []
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
    return cells


def _line_row(cells: list[TemplateCell], record_prefix: str, title: str, source: str) -> int:
    """The one row holding the repeating record's fields."""
    record_rows = {c.row for c in cells if c.kind in ("field", "mixed") and _names_record(c, record_prefix)}
    if len(record_rows) != 1:
        found = ", ".join(str(r + 1) for r in sorted(record_rows)) or "none"
        raise OutputError(
            f"template {source}, sheet {title}: exactly one row must hold the "
            f"{{{record_prefix}.…}} fields that repeat per {record_prefix} (found rows: {found})"
        )
    return record_rows.pop()


def _columns_of(ws: Any) -> tuple[tuple[int, int, float | None, bool], ...]:
    """(first, last, width, hidden) of each column range with a custom width or hidden."""
    columns = []
    for dim in ws.column_dimensions.values():
        if dim.min is None:
            continue
        width = float(dim.width) if dim.customWidth and dim.width else None
        if width is None and not dim.hidden:
            continue
        columns.append((dim.min - 1, dim.max - 1, width, bool(dim.hidden)))
    return tuple(columns)


def _autofilter_of(ws: Any) -> tuple[int, int, int, int] | None:
    if ws.auto_filter is None or not ws.auto_filter.ref:
        return None
    first, _, last = ws.auto_filter.ref.partition(":")
    r1, c1 = xl_cell_to_rowcol(first)
    r2, c2 = xl_cell_to_rowcol(last or first)
    return (r1, c1, r2, c2)


def _parse_sheet(
    ws: Any, record_prefix: str, record_fields: Mapping[str, str], theme: list[str], source: str
) -> TemplateSheet:
    fields = dict(HEADER_FIELDS) | {f"{record_prefix}.{k}": v for k, v in record_fields.items()}
    merges, merged_inner = _merges_of(ws)
    cells = _cells_of(ws, merged_inner, fields, theme, source)
    line_row = _line_row(cells, record_prefix, ws.title, source)
    heights = tuple((r - 1, float(d.height)) for r, d in ws.row_dimensions.items() if d.height is not None)
    return TemplateSheet(
        name=ws.title,
        cells=tuple(c for c in cells if c.row != line_row),
        line_row=line_row,
        line_cells=tuple(c for c in cells if c.row == line_row),
        columns=_columns_of(ws),
        row_heights=heights,
        default_row_height=ws.sheet_format.defaultRowHeight if ws.sheet_format.customHeight else None,
        merges=tuple(merges),
        images=tuple(_image_of(img) for img in getattr(ws, "_images", ())),
        freeze=xl_cell_to_rowcol(ws.freeze_panes) if ws.freeze_panes else None,
        autofilter=_autofilter_of(ws),
        page=_page_of(ws),
    )


def _names_record(cell: TemplateCell, prefix: str) -> bool:
    """Whether a cell holds a field of the repeating record (``{line.…}`` / ``{item.…}``)."""
    if cell.kind == "field":
        return cell.record
    return cell.kind == "mixed" and f"{{{prefix}." in str(cell.value)


def _image_of(img: Any) -> TemplateImage:
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
    return TemplateImage(row, col, data, x_off, y_off, shown_w / native_w, shown_h / native_h)


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
    from billing_lib.io.default_template import build_default_template  # it names this module's fields

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

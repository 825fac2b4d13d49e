"""The factory invoice layout (``build_default_template``); ``make_template.py`` saves it as
``data/templates/invoice_template.xlsx``, and it is the look when no template file exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing_lib.io.xlsx_template import DETAIL_SHEET, HEADER_FIELDS, INVOICE_SHEET, ITEM_FIELDS, LINE_FIELDS


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

    _detail_sheet(wb, font, money, navy, grey)
    _notes_sheet(wb, base)
    return wb


def _detail_sheet(wb: Any, font: Callable[..., Any], money: str, navy: str, grey: str) -> None:
    """The ``Detail`` sheet: one row per source item under a coloured heading row."""
    from openpyxl.styles import Alignment, PatternFill
    from openpyxl.worksheet.properties import PageSetupProperties

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


def _notes_sheet(wb: Any, base: str) -> None:
    """The ``Notes`` sheet: how the template works (not copied to invoices)."""
    from openpyxl.styles import Alignment, Font

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

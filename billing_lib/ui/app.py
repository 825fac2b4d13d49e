"""The analyst's app (SPEC section 8): pick the month, bring the exports, work the exceptions, issue, take
the results away.

``App`` wraps one ``widgets.Workbook`` (the month's preview, method and filters) with what an analyst
needs around it: a period picker, an upload of the month's exports or a folder on the server, the
exceptions as an interactive table (itables' ipywidget) where an item gets a PO, is released or left
out (``adjustments.csv`` beside the inputs), issuing final invoices behind a confirmation, the
period's register (browse, void), and the period's files as one zip. Its state is plain attributes
and methods, so ``tests/test_app.py`` drives it without a browser; every action reports a sentence
in ``message`` (never a traceback).

The batch (``interactive=False``) uses only the workbook's record panels.
"""

from __future__ import annotations

import base64
import dataclasses
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from billing_lib.core import adjustments as adj
from billing_lib.domain.errors import BillingError
from billing_lib.domain.money import format_minor
from billing_lib.io import locations
from billing_lib.io.accounting_ledger import export_period
from billing_lib.run.options import RunOptions, from_notebook
from billing_lib.run.pipeline import RunResult, reprint, run_invoice, void_invoice
from billing_lib.ui import app_data, drilldown, page, report_html
from billing_lib.ui.widgets import ALL, Workbook

ISSUED_COLUMNS = ["Invoice", "Customer", "PO", "Total"]
EXCEPTION_ROWS = 2000  # rows the exceptions table holds; the filters narrow it, exceptions.csv has all
ACTION_LABELS = [
    ("Give it a PO", adj.SET_PO),
    ("Release it (invoice as it is)", adj.RELEASE),
    ("Leave it out of this run", adj.LEAVE_OUT),
]


def _table(header: list[str], rows: list[list[str]]) -> str:
    return page.html_table([html.escape(h) for h in header], [[page.esc(c) for c in r] for r in rows])


EMBED_LIMIT_BYTES = 64 * 1024 * 1024  # larger files are not sent through the page (they stay on the server)


def _download_link(path: Path, mime: str) -> str:
    """A link that saves ``path`` in the browser (the file travels inside the page: no file server needed)."""
    size = path.stat().st_size
    if size > EMBED_LIMIT_BYTES:
        return (
            f'<p class="billing-note">{html.escape(path.name)} is {size / 1024 / 1024:,.0f} MB, too large to '
            f"hand over through the page: it is kept at {html.escape(str(path))}.</p>"
        )
    data = base64.b64encode(path.read_bytes()).decode()
    name = html.escape(path.name)
    return (
        f'<a class="billing-download" download="{name}" href="data:{mime};base64,{data}">Download {name}</a> '
        f'<span class="billing-note">({path.stat().st_size / 1024:,.0f} kB, kept in {html.escape(str(path.parent))})</span>'
    )


class App:
    """One month in the analyst's hands: its inputs, its preview, its exceptions, issuing and its register."""

    workbook: Workbook | None

    def __init__(
        self,
        options: RunOptions,
        *,
        interactive: bool = True,
        compare_with: str = "",
        outputs_root: Path | None = None,
    ) -> None:
        """``outputs_root``: the outputs folder whose ``<period>/`` each month writes (drafts in its
        ``drafts/``); None: the options' ``out`` as given."""
        self.root = outputs_root
        options = self._with_out(options)
        self.options = options
        self.interactive = interactive
        self.compare_with = compare_with
        self.workbook = None
        self.message = ""
        self.message_ok = True
        self.exceptions = pd.DataFrame(columns=app_data.EXCEPTION_COLUMNS)
        self.shown_exceptions = self.exceptions
        self.reason = ALL
        self.issued: RunResult | None = None
        self.issuing = False
        self.confirming = False  # the Issue button showed the confirmation, not yet answered
        self.download: Path | None = None
        if not interactive:  # the batch: errors stop the notebook, as papermill reports them
            self.workbook = Workbook(options, interactive=False, compare_with=compare_with)
            return
        self._build()
        self.load(options.inputs)

    @classmethod
    def from_parameters(cls, *, interactive: bool = True, compare_with: str = "", **parameters: Any) -> App:
        """The app a notebook's parameters describe; an empty ``out`` writes ``outputs/<period>/``."""
        root = None if str(parameters.get("out", "")) else locations.notebook_outputs_root()
        return cls(
            from_notebook(**parameters),
            interactive=interactive,
            compare_with=compare_with,
            outputs_root=root if interactive else None,
        )

    def _with_out(self, options: RunOptions) -> RunOptions:
        if self.root is None:
            return options
        folder = self.root / options.period
        return dataclasses.replace(options, out=folder / "drafts" if options.draft else folder)

    def period_folder(self) -> Path:
        """The month's output folder (final invoices; drafts and reprints in folders of their own inside)."""
        if self.root is not None:
            return self.root / self.period
        return Path(self.options.out_dir)

    # --- the month ----------------------------------------------------------------------------------

    @property
    def period(self) -> str:
        return self.options.period

    @property
    def adjustments_path(self) -> Path:
        return adj.path_beside(self.options.inputs)

    def _month_options(self, inputs: Path | None, period: str | None) -> RunOptions:
        """The options for another folder or month (checked as they are made: ``UsageError`` for a bad one)."""
        options = dataclasses.replace(
            self.options,
            inputs=Path(inputs) if inputs is not None else self.options.inputs,
            period=period or self.options.period,
        )
        if period and period != self.options.period and self.root is None:
            options = dataclasses.replace(options, out=Path(self.options.out_dir).parent / period)
        return self._with_out(options)

    def load(self, inputs: Path | None = None, period: str | None = None) -> bool:
        """Read the month (``inputs`` folder, ``period``) and show it; False, with a sentence, when it cannot."""
        try:
            options = self._month_options(inputs, period)
        except BillingError as exc:
            self._failed(exc)
            return False
        self.options = options
        self._say(f"Reading the exports of {options.period} …", ok=True)
        try:
            if self.workbook is None:
                self.workbook = Workbook(options, compare_with=self.compare_with)
                self._mount()
            else:
                self.workbook.options = options
                self.workbook.reload()
        except BillingError as exc:
            self._failed(exc)
            return False
        self.issued = None
        self.download = None
        self._refresh()
        self._say(self._loaded_sentence(), ok=True)
        return True

    def _failed(self, exc: BillingError) -> None:
        text = str(exc)
        if "inputs folder does not exist" in text:
            text = f"The folder {self.options.inputs} does not exist: upload the month's exports or choose another folder."
        elif "no billable table found" in text:
            text = (
                f"No billing export was found in {self.options.inputs}: it needs billing items, or time "
                "entries and charges (files such as BillingItems.xlsx, TimeEntries.xlsx)."
            )
        self._say(text, ok=False)
        if self.workbook is not None and self.interactive:
            self.w_month.layout.display = "none"

    def _loaded_sentence(self) -> str:
        wb = self.workbook
        assert wb is not None
        c = wb.analysis.checklist
        return (
            f"{self.period}: {page.plural(c.read, 'billable row')} read from {self.options.inputs.name}, "
            f"{page.plural(len(wb.invoices), 'invoice')} to issue, {page.plural(c.held, 'item')} held, "
            f"{page.plural(c.flagged, 'flag')}."
            + ("" if wb.prepared[0].inputs.has("po_budgets") else f" {app_data.NO_PO_TABLE}")
        )

    def set_period(self, period: str) -> bool:
        """Another month: its uploaded exports when there are some, else the same folder."""
        uploads = app_data.uploads_folder(period)
        return self.load(uploads if uploads.is_dir() else self.options.inputs, period)

    def upload(self, files: list[tuple[str, bytes]]) -> bool:
        """Save the chosen exports into ``outputs/inputs/<period>/`` and read the month from there."""
        try:
            folder = app_data.save_uploads(files, self.period)
        except BillingError as exc:
            self._say(str(exc), ok=False)
            return False
        return self.load(folder)

    def open_folder(self, text: str) -> bool:
        try:
            folder = app_data.check_inputs_folder(text)
        except BillingError as exc:
            self._say(str(exc), ok=False)
            return False
        return self.load(folder)

    # --- exceptions ---------------------------------------------------------------------------------

    def _refresh(self) -> None:
        wb = self.workbook
        assert wb is not None
        self.exceptions = app_data.exceptions_table(wb.analysis)
        self.names = app_data.customer_names(wb.analysis)
        self.apply_filters()
        if self.interactive:
            self._show_checklist()
            self._show_adjustments()
            self.w_po_drilldown.children = (drilldown.drilldown_widget(wb.analysis),)
            self.w_issue_result.value = ""
            self.w_confirm_box.layout.display = "none"
            self.w_download.value = ""
            self.w_month.layout.display = None

    def set_reason(self, reason: str | None) -> None:
        self.reason = reason or ALL
        self.apply_filters()

    def apply_filters(self) -> None:
        """The customer, PO and reason filters on the exceptions and the budgets (the preview has its own)."""
        wb = self.workbook
        if wb is None:
            return
        self.shown_exceptions = app_data.filter_exceptions(self.exceptions, wb.customer, wb.po, self.reason)
        if not self.interactive:
            return
        choices = app_data.reason_choices(self.exceptions)
        if self.reason not in {v for _, v in choices}:
            self.reason = ALL
        self._set(self.w_reason, self.reason, choices)
        shown = self.shown_exceptions.head(EXCEPTION_ROWS)
        self.w_exceptions.update(shown[app_data.EXCEPTION_COLUMNS].reset_index(drop=True), selected_rows=[])
        self.w_exception_count.value = (
            f"<p>{page.plural(len(self.shown_exceptions), 'exception')}"
            + (f" of {len(self.exceptions):,}" if len(self.shown_exceptions) != len(self.exceptions) else "")
            + (
                f"; the first {EXCEPTION_ROWS:,} are listed"
                if len(shown) < len(self.shown_exceptions)
                else ""
            )
            + ". Select one to act on it.</p>"
        )
        self._show_register()
        bd = app_data.filter_burndown(wb.analysis.burndown, wb.customer, wb.po)
        wb.w_burndown.value = report_html.status_counts_html(bd) + report_html.burndown_html(
            bd, names=self.names
        )

    def _show_selected(self) -> None:
        """Say which exception the analyst picked, so they see what a decision will apply to."""
        row = self.selected_exception()
        self.w_selected.value = (
            "No exception selected."
            if row is None
            else html.escape(
                f"Selected: item {row['Item']} ({row['Customer']}, {row['Amount']}): {row['Reason']}"
            )
        )

    def selected_exception(self) -> pd.Series | None:
        rows = list(self.w_exceptions.selected_rows) if self.interactive else []
        shown = self.shown_exceptions.head(EXCEPTION_ROWS)
        return shown.iloc[rows[0]] if rows and rows[0] < len(shown) else None

    def adjust(self, source_table: str, item_id: str, action: str, value: str, note: str) -> bool:
        """Record a decision about an item in ``adjustments.csv`` and read the month again with it."""
        try:
            adj.add(
                self.adjustments_path,
                adj.Adjustment(source_table, item_id, action, value.strip(), note.strip()),
            )
        except (BillingError, OSError) as exc:
            self._say(f"The adjustment was not recorded: {exc}", ok=False)
            return False
        what = dict((v, k) for k, v in ACTION_LABELS)[action].lower()
        if self.load():
            self._say(
                f"Recorded for item {item_id}: {what} ({note.strip()}). The month was read again with it.",
                ok=True,
            )
        return True

    def take_back(self, source_table: str, item_id: str, action: str) -> bool:
        adj.remove(self.adjustments_path, source_table, item_id, action)
        return self.load()

    # --- issuing ------------------------------------------------------------------------------------

    def confirmation_text(self) -> str:
        """What issuing would do and what the checklist still flags, for the confirmation."""
        wb = self.workbook
        assert wb is not None
        c = wb.analysis.checklist
        amounts = ", ".join(
            f"{format_minor(m, cur, grouped=True, with_currency=True)}" for cur, m in self._totals()
        )
        parts = [f"Issue {page.plural(len(wb.invoices), 'final invoice')} for {self.period} ({amounts})?"]
        if c.blocking:
            parts.append(f"The checklist says not ready: {'; '.join(c.blocking_reasons)}.")
        if c.flagged:
            parts.append(f"{page.plural(c.flagged, 'flag')} still stand{'s' if c.flagged == 1 else ''}.")
        if not wb.prepared[0].inputs.has("po_budgets"):
            parts.append(app_data.NO_PO_TABLE)
        parts.append("Issued invoices are numbered in the register and can only be voided afterwards.")
        return " ".join(parts)

    def _totals(self) -> list[tuple[str, int]]:
        assert self.workbook is not None
        inv = self.workbook.invoices
        return [(str(c), int(v)) for c, v in inv.groupby("currency")["total_minor"].sum().items()]

    def issue(self) -> RunResult | None:
        """Issue the final invoices of the preview's method; None (with a sentence) when nothing is issued.

        A second call while one runs, or after everything was issued, issues nothing and moves nothing.
        """
        wb = self.workbook
        if wb is None or self.issuing:
            return None
        self.issuing = True
        try:
            if wb._register_stamp() != wb._register_seen:
                wb.reload()
            if wb.invoices.empty:
                self._say(
                    f"Nothing new to issue for {self.period}: every billable item is already on an issued "
                    "invoice or held.",
                    ok=True,
                )
                return None
            final = dataclasses.replace(wb.run_options, draft=False, out=self.period_folder())
            analysis = dataclasses.replace(wb.analysis, options=final)
            result = run_invoice(final, analysis=analysis)
        except BillingError as exc:
            self._say(f"Nothing was issued: {exc}", ok=False)
            return None
        finally:
            self.issuing = False
        self.issued = result
        self.load()  # the register holds these items now: the preview must not offer them again
        self.issued = result
        self._say(
            f"{page.plural(len(result.invoice_numbers), 'final invoice')} issued for {self.period}.",
            ok=True,
        )
        if self.interactive:
            self.w_issue_result.value = self.issued_html()
        return result

    def issued_rows(self) -> list[list[str]]:
        if self.issued is None:
            return []
        inv = self.issued.analysis.invoice_set.invoices
        return [
            [str(n), str(c), str(p) or "—", format_minor(t, cur, grouped=True, with_currency=True)]
            for n, c, p, t, cur in zip(
                inv["invoice_number"],
                inv["customer_name"],
                inv["po_number"],
                inv["total_minor"],
                inv["currency"],
                strict=True,
            )
        ]

    def issued_html(self) -> str:
        rows = self.issued_rows()
        return f"<h3>Issued: {page.plural(len(rows), 'invoice')}</h3>" + _table(ISSUED_COLUMNS, rows)

    # --- register and download ----------------------------------------------------------------------

    def register_rows(self) -> pd.DataFrame:
        return app_data.register_invoices(self.options.register_path, self.period)

    def void(self, number: str, reason: str) -> bool:
        """Void an issued invoice: the register issues the credit note that cancels it (``pipeline.void_invoice``)."""
        if not number:
            self._say("Choose the invoice to void.", ok=False)
            return False
        if not reason.strip():
            self._say(f"Say why {number} is voided: the reason is kept in the register.", ok=False)
            return False
        try:
            credit, _folder = void_invoice(number, reason.strip(), self.options.register_path)
        except BillingError as exc:
            self._say(str(exc), ok=False)
            return False
        ledgers = ""
        try:  # the credit note to the ledgers at once, as `billing void` does
            exported = export_period(self.options.register_path, credit.period)
            if exported.files:
                ledgers = f" Its QuickBooks and Xero import files are in {exported.folder}."
        except BillingError as exc:
            ledgers = f" Its ledger import files were not written ({exc}); `billing accounting` writes them."
        self.load()
        self._say(
            f"{number} is void ({reason.strip()}): credit note {credit.invoice_number} issued; "
            f"its items can be invoiced again.{ledgers}",
            ok=True,
        )
        return True

    def reprint(self, number: str) -> Path | None:
        """An issued invoice's or credit note's workbook written again from the register (``pipeline.reprint``),
        offered for download."""
        if not number:
            self._say("Choose the invoice to reprint.", ok=False)
            return None
        try:
            paths = reprint(number, self.options.register_path)
        except BillingError as exc:
            self._say(str(exc), ok=False)
            return None
        self._say(f"{number} reprinted as it was issued.", ok=True)
        if self.interactive:
            self.w_download.value = _download_link(
                paths[0], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        return paths[0]

    def make_download(self) -> Path | None:
        try:
            self.download = app_data.period_zip(self.period_folder(), self.period)
        except BillingError as exc:
            self._say(str(exc), ok=False)
            return None
        if self.interactive:
            self.w_download.value = _download_link(self.download, "application/zip")
        self._say(f"The files of {self.period} are ready to download.", ok=True)
        return self.download

    # --- the batch's record ---------------------------------------------------------------------------

    def panel(self) -> Any:
        """The whole app (interactive), or the invoice list of the batch's record."""
        if not self.interactive:
            assert self.workbook is not None
            return self.workbook.invoices_panel()
        return self.w_app

    def record_panel(self, name: str) -> Any:
        """A panel of the batch's executed notebook (``comparison``, ``burndown``, ``checklist``); the app
        shows them in its tabs, so nothing here when interactive."""
        if self.interactive or self.workbook is None:
            return None
        titles = {
            "comparison": "Methods side by side",
            "burndown": "PO budgets",
            "checklist": "Pre-invoice checklist",
        }
        panel = getattr(self.workbook, f"{name}_panel")()
        return page.Html(f"<h2>{titles[name]}</h2>" + panel._repr_html_())

    def export_if_requested(self, export: bool) -> Any:
        if self.interactive or self.workbook is None:
            return None
        return self.workbook.export_if_requested(export)

    # --- widgets ------------------------------------------------------------------------------------

    def _say(self, text: str, ok: bool) -> None:
        self.message, self.message_ok = text, ok
        if self.interactive:
            css = "billing-ok" if ok else "billing-error"
            self.w_message.value = f'<p class="{css}">{page.esc(text)}</p>'

    def _set(self, widget: w.ValueWidget, value: Any, options: list[tuple[str, str]]) -> None:
        self._syncing = True
        try:
            if list(widget.options) != options:
                widget.options = options
            widget.value = value
        finally:
            self._syncing = False

    def _guarded(self, action: Callable[[], object]) -> None:
        try:
            action()
        except BillingError as exc:
            self._say(str(exc), ok=False)
        except Exception as exc:  # a bug: a sentence where the user looks; ipywidgets logs the traceback
            self._say(f"Something went wrong ({type(exc).__name__}); nothing was issued.", ok=False)
            raise

    def _build(self) -> None:
        from itables.widget import ITable

        self._syncing = False
        style = {"description_width": "initial"}
        self.w_css = w.HTML(page.CSS)
        self.w_period = w.Dropdown(
            options=app_data.period_choices(around=self.period),
            value=self.period,
            description="Month",
            style=style,
        )
        self.w_period.add_class("billing-period")
        self.w_upload = w.FileUpload(accept=".xlsx,.xlsm,.csv", multiple=True, description="Upload exports")
        self.w_upload.add_class("billing-upload")
        self.w_folder = w.Text(
            placeholder="or a folder on the server, e.g. /srv/share/exports/2026-11",
            layout=w.Layout(width="420px"),
        )
        self.w_folder.add_class("billing-folder")
        self.w_open = w.Button(description="Open folder", icon="folder-open")
        self.w_open.add_class("billing-open")
        self.w_message = w.HTML()
        self.w_message.add_class("billing-message")

        self.w_reason = w.Dropdown(
            options=[("Every reason", ALL)], value=ALL, description="Reason", style=style
        )
        self.w_reason.add_class("billing-reason")
        self.w_exception_count = w.HTML()
        self.w_exceptions = ITable(
            pd.DataFrame(columns=app_data.EXCEPTION_COLUMNS),
            select={"style": "single"},
            classes="display compact",
            style="width:100%;margin:0",
        )
        self.w_exceptions.add_class("billing-exceptions")
        self.w_action = w.Dropdown(options=ACTION_LABELS, value=adj.SET_PO, description="Do", style=style)
        self.w_action.add_class("billing-action")
        self.w_value = w.Text(placeholder="PO number", layout=w.Layout(width="180px"))
        self.w_value.add_class("billing-value")
        self.w_note = w.Text(placeholder="why (kept with the decision)", layout=w.Layout(width="320px"))
        self.w_note.add_class("billing-note-text")
        self.w_record = w.Button(description="Record", icon="check", button_style="primary")
        self.w_record.add_class("billing-record")
        self.w_adjustments = w.HTML()
        self.w_adjustments.add_class("billing-adjustments")
        self.w_selected = w.HTML("No exception selected.")
        self.w_selected.add_class("billing-selected")

        self.w_checklist = w.HTML()
        self.w_checklist.add_class("billing-checklist-summary")
        self.w_issue = w.Button(
            description="Issue final invoices…",
            icon="stamp",
            button_style="warning",
            layout=w.Layout(width="220px"),
        )
        self.w_issue.add_class("billing-issue")
        self.w_confirm_text = w.HTML()
        self.w_confirm = w.Button(description="Yes, issue them", button_style="danger")
        self.w_confirm.add_class("billing-confirm-yes")
        self.w_cancel = w.Button(description="Cancel")
        self.w_cancel.add_class("billing-confirm-no")
        self.w_confirm_box = w.VBox(
            [self.w_confirm_text, w.HBox([self.w_confirm, self.w_cancel])], layout=w.Layout(display="none")
        )
        self.w_confirm_box.add_class("billing-confirm")
        self.w_issue_result = w.HTML()
        self.w_issue_result.add_class("billing-issued")

        self.w_register = w.HTML()
        self.w_register.add_class("billing-register")
        self.w_void_number = w.Dropdown(options=[], description="Invoice", style=style)
        self.w_void_number.add_class("billing-void-number")
        self.w_void_reason = w.Text(placeholder="reason for the void", layout=w.Layout(width="320px"))
        self.w_void_reason.add_class("billing-void-reason")
        self.w_void = w.Button(description="Void", icon="ban", button_style="danger")
        self.w_void.add_class("billing-void")
        self.w_reprint = w.Button(description="Reprint", icon="print")
        self.w_reprint.add_class("billing-reprint")
        self.w_make_zip = w.Button(description="Download the month's files", icon="download")
        self.w_make_zip.add_class("billing-zip")
        self.w_download = w.HTML()
        self.w_download.add_class("billing-download-link")
        # issue #18 builds the PO drill-down in a module of its own; it is shown here, under the budgets
        self.w_po_drilldown = w.VBox()
        self.w_po_drilldown.add_class("billing-po-drilldown")

        self.w_month = w.VBox()
        source = w.HBox(
            [self.w_period, self.w_upload, self.w_folder, self.w_open],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.w_app = w.VBox(
            [self.w_css, source, self.w_message, self.w_month], layout=w.Layout(padding="4px 8px")
        )
        self.w_app.add_class("billing-app")

        self.w_period.observe(lambda c: self._guarded(lambda: self.set_period(c["new"])), names="value")
        self.w_upload.observe(lambda c: self._guarded(self._uploaded), names="value")
        self.w_open.on_click(lambda _b: self._guarded(lambda: self.open_folder(self.w_folder.value)))
        self.w_reason.observe(
            lambda c: None if self._syncing else self._guarded(lambda: self.set_reason(c["new"])),
            names="value",
        )
        self.w_record.on_click(lambda _b: self._guarded(self._record_clicked))
        self.w_exceptions.observe(lambda _c: self._guarded(self._show_selected), names="selected_rows")
        self.w_issue.on_click(lambda _b: self._guarded(self._issue_clicked))
        self.w_cancel.on_click(lambda _b: self._cancel_clicked())
        self.w_confirm.on_click(lambda _b: self._guarded(self._confirm_clicked))
        self.w_void.on_click(
            lambda _b: self._guarded(
                lambda: self.void(self.w_void_number.value or "", self.w_void_reason.value)
            )
        )
        self.w_reprint.on_click(
            lambda _b: self._guarded(lambda: self.reprint(self.w_void_number.value or ""))
        )
        self.w_make_zip.on_click(lambda _b: self._guarded(self.make_download))

    def _mount(self) -> None:
        """Put the workbook's widgets in the tabs (once: later months reuse them)."""
        wb = self.workbook
        assert wb is not None
        filters = w.HBox([wb.w_customer, wb.w_po, self.w_reason], layout=w.Layout(flex_flow="row wrap"))
        for widget in (wb.w_customer, wb.w_po):
            widget.observe(lambda _c: self._guarded(self.apply_filters), names="value")
        wb.w_header.add_class("billing-header")
        preview = w.VBox(
            [
                w.HBox(
                    [wb.w_method, wb.w_force, wb.w_export, wb.w_progress],
                    layout=w.Layout(align_items="center", flex_flow="row wrap"),
                ),
                wb.w_status,
                wb.w_count,
                wb.w_invoice,
                wb.w_preview,
            ]
        )
        exceptions = w.VBox(
            [
                self.w_exception_count,
                self.w_exceptions,
                self.w_selected,
                w.HBox(
                    [self.w_action, self.w_value, self.w_note, self.w_record],
                    layout=w.Layout(flex_flow="row wrap", align_items="center"),
                ),
                w.HTML("<h3>Decisions kept in adjustments.csv</h3>"),
                self.w_adjustments,
            ]
        )
        budgets = w.VBox([wb.w_chart, wb.w_burndown, self.w_po_drilldown])
        issue = w.VBox([self.w_checklist, self.w_issue, self.w_confirm_box, self.w_issue_result])
        register = w.VBox(
            [
                self.w_register,
                w.HBox(
                    [self.w_void_number, self.w_reprint, self.w_void_reason, self.w_void],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                self.w_make_zip,
                self.w_download,
            ]
        )
        methods = w.VBox([w.HBox([wb.w_compare, wb.w_compare_go]), wb.w_comparison])
        tabs = w.Tab(children=[preview, exceptions, budgets, issue, register, methods])
        for i, title in enumerate(
            [
                "Invoices",
                "Exceptions",
                "PO budgets",
                "Checklist, issue",
                "Register, files",
                "Methods",
            ]
        ):
            tabs.set_title(i, title)
        tabs.add_class("billing-tabs")
        self.w_month.children = [wb.w_header, filters, tabs]

    def _cancel_clicked(self) -> None:
        self.confirming = False
        self.w_confirm_box.layout.display = "none"
        self._say("Nothing was issued.", ok=True)

    def _uploaded(self) -> None:
        files = [(f["name"], bytes(f["content"])) for f in self.w_upload.value]
        if files:
            self.upload(files)

    def _record_clicked(self) -> None:
        row = self.selected_exception()
        if row is None:
            self._say("Select an exception in the table first.", ok=False)
            return
        self.adjust(
            str(row["source_table"]),
            str(row["item_id"]),
            self.w_action.value,
            self.w_value.value,
            self.w_note.value,
        )

    def _issue_clicked(self) -> None:
        self.w_confirm_text.value = f"<p>{page.esc(self.confirmation_text())}</p>"
        self.w_confirm_box.layout.display = None
        self.confirming = True

    def _confirm_clicked(self) -> None:
        """One issue per confirmation: a second click of the same confirmation (a double click, queued
        while the first ran) finds it used and does nothing."""
        if not self.confirming:
            return
        self.confirming = False
        buttons = (self.w_issue, self.w_confirm, self.w_cancel)
        for b in buttons:
            b.disabled = True
        try:
            self.w_issue_result.value = "<p>Issuing …</p>"
            self.w_confirm_box.layout.display = "none"
            result = self.issue()
            earlier = self.issued_html() if self.issued is not None else ""
            self.w_issue_result.value = earlier if result else f"<p>{page.esc(self.message)}</p>{earlier}"
        finally:
            for b in buttons:
                b.disabled = False

    def _show_checklist(self) -> None:
        wb = self.workbook
        assert wb is not None
        c = wb.analysis.checklist
        lines = []
        if not wb.prepared[0].inputs.has("po_budgets"):
            lines.append(f'<p class="billing-error">{page.esc(app_data.NO_PO_TABLE)}</p>')
        if c.blocking:
            lines.append(
                f'<p class="billing-error">Not ready: {page.esc("; ".join(c.blocking_reasons))}.</p>'
            )
        else:
            lines.append('<p class="billing-ok">Ready: nothing is held and no PO is taken over budget.</p>')
        counts = [
            [("Held" if a == "held" else "Flagged"), app_data.sentence(r), f"{n:,}"]
            for a, pairs in (("held", c.held_by_reason), ("flagged", c.flagged_by_reason))
            for r, n in pairs
        ]
        if counts:
            lines.append(_table(["", "Reason", "Items"], counts))
        self.w_checklist.value = "".join(lines)

    def _show_adjustments(self) -> None:
        assert self.workbook is not None
        decided = self.workbook.prepared[0].adjustments
        labels = {v: k for k, v in ACTION_LABELS}
        rows = [
            [
                f"{a.source_table.replace('_', ' ')} {a.item_id}",
                labels.get(a.action, a.action),
                a.value,
                a.note,
                a.who,
                a.when,
                a.outcome,
            ]
            for a in decided
        ]
        self.w_adjustments.value = (
            _table(["Item", "Decision", "PO", "Note", "Who", "When", "Outcome"], rows)
            if rows
            else "<p class='billing-note'>None yet.</p>"
        )

    def _show_register(self) -> None:
        frame = self.register_rows()
        wb = self.workbook
        if wb is not None and wb.customer != ALL:  # the customer filter applies here too
            frame = frame.loc[(frame["customer_id"] == wb.customer).astype(bool)]
        if wb is not None and wb.po != ALL:
            frame = frame.loc[
                frame["po_number"].map(lambda text: wb.po in str(text).split("; ")).astype(bool)
            ]
        header = ["Number", "Document", "Date", "Customer", "PO", "Total", "Status"]
        fields = [
            "invoice_number",
            "document",
            "invoice_date",
            "customer_name",
            "po_number",
            "total",
            "status",
        ]
        rows = [[str(v) for v in row] for row in frame[fields].itertuples(index=False)]
        self.w_register.value = (
            f"<h3>Register of {page.esc(self.period)}: {page.plural(len(rows), 'document')}</h3>"
            + (_table(header, rows) if rows else "<p class='billing-note'>Nothing issued yet.</p>")
        )
        numbers = [str(n) for n in frame["invoice_number"]]
        self.w_void_number.options = numbers
        standing = [str(n) for n, v in zip(frame["invoice_number"], frame["voided"], strict=True) if not v]
        self.w_void_number.value = standing[0] if standing else (numbers[0] if numbers else None)


__all__ = ["App"]

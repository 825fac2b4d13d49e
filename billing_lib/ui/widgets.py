"""The billing workbook as ipywidgets: one month read once, re-consolidated on every pick of a method.

``Workbook`` holds the state (the prepared month, the analysis of the chosen method, the filters,
the selected invoice, the last export) and exposes it as plain attributes and methods, so a test
can set a widget's value, or call ``set_method`` directly, and assert what changed. The widgets
only observe and mirror that state; the calculation lives in ``pipeline`` and ``consolidate``.

Reading the month and checking it (``pipeline.prepare``) happens once. Picking a method re-runs
only the consolidation (``pipeline.consolidate_month``) and shows the invoices, then the burn-down,
checklist and comparison (``pipeline.finish_analysis``); the last few methods' results are kept.
"""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ipywidgets as w
import pandas as pd

from billing_lib.core.consolidate import (
    LABELS,
    METHODS,
    Comparison,
    InvoiceSet,
    compare_methods,
    normalise_method,
)
from billing_lib.core.rules import Prepared
from billing_lib.domain.errors import BillingError
from billing_lib.domain.records import Issue
from billing_lib.run.options import RunOptions, from_notebook
from billing_lib.run.pipeline import (
    Analysis,
    RunResult,
    consolidate_month,
    finish_analysis,
    prepare,
    run_invoice,
)
from billing_lib.ui import page, report_html, report_images
from billing_lib.ui.checklist_text import render_text

# what pipeline.prepare returns: the items, the PO reference table, earlier invoicing
PreparedMonth = tuple[Prepared, pd.DataFrame, pd.DataFrame]

ALL = ""  # the filters' "everything" value
NO_PO = "\u2205"  # the PO filter's value for invoices without a PO (no PO number is the empty-set sign)
PICKER_LIMIT = 500  # invoices listed in the picker; the count and the filters cover all of them
CACHE_SIZE = 4  # methods whose consolidation (and comparisons) are kept
AUTO_COMPARE_ITEMS = 50_000  # above this, a method change waits for the Compare button to compare again
EXPORT_STEPS = 5  # run_invoice reports reading, tables, charts, workbooks; then done
# the methods a run may default to (buyer_reference is set per customer, never as the default)
DEFAULT_METHODS = tuple(m for m in METHODS if m != "buyer_reference")


def method_options() -> list[tuple[str, str]]:
    return [(LABELS[m], m) for m in DEFAULT_METHODS]


def filter_invoices(invoices: pd.DataFrame, customer: str = ALL, po: str = ALL) -> pd.DataFrame:
    """The invoices of one customer (``ALL``: every one) carrying one PO (``NO_PO``: none; ``ALL``: any)."""
    keep = pd.Series(True, index=invoices.index)
    if customer != ALL:
        keep &= invoices["customer_id"] == customer
    if po == NO_PO:
        keep &= invoices["po_number"] == ""
    elif po != ALL:
        keep &= invoices["po_number"].map(lambda text: po in text.split("; "))
    return invoices[keep]


def customer_choices(invoices: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, customer id) of every customer with an invoice, by name."""
    pairs = invoices[["customer_id", "customer_name"]].drop_duplicates("customer_id")
    pairs = pairs.sort_values(["customer_name", "customer_id"], key=lambda s: s.str.casefold())
    return [
        ("All customers", ALL),
        *((f"{n} ({c})", c) for c, n in zip(pairs["customer_id"], pairs["customer_name"], strict=True)),
    ]


def po_choices(invoices: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, PO) of every PO on these invoices, plus "no PO" when an invoice has none."""
    texts = pd.unique(invoices["po_number"])  # many invoices share a PO: split each text once
    numbers = sorted({p for text in texts for p in str(text).split("; ") if p}, key=str.casefold)
    none = [("(no PO)", NO_PO)] if (invoices["po_number"] == "").any() else []
    return [("All POs", ALL), *none, *((p, p) for p in numbers)]


def _mime_png(png: bytes, text: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": base64.b64encode(png).decode(), "text/plain": text},
    }


class Workbook:
    """The month's invoices under a chosen method, the PO burn-down, the checklist, and the export."""

    invoice_set: InvoiceSet  # the chosen method's invoices (the preview)
    analysis: Analysis  # and the burn-down, exposure and checklist that go with them

    def __init__(
        self,
        options: RunOptions,
        *,
        interactive: bool = True,
        compare_with: str = "",
        prepared: PreparedMonth | None = None,
    ) -> None:
        """Read and check the month (or take ``prepared``: ``pipeline.prepare(options)``) and show it."""
        self.options = options  # checked when made (RunOptions.__post_init__)
        self.interactive = interactive
        self.method = normalise_method(self.options.method)
        self.force_method = self.options.force_method
        self.compare_with = (
            normalise_method(compare_with)
            if compare_with
            else ("customer" if self.method != "customer" else "contract")
        )
        self.customer = ALL
        self.po = ALL
        self.selected_invoice: str | None = None
        self.status_text = ""
        self.status_ok = True
        self.progress_value = 0
        self.last_result: RunResult | None = None
        self.timings: dict[str, float] = {}
        self.overview_png = b""
        self._charted: pd.DataFrame | None = None  # the burn-down the chart shows
        self._analyses: OrderedDict[tuple[str, bool], Analysis] = OrderedDict()
        self._comparisons: OrderedDict[tuple[str, str, bool], Comparison] = OrderedDict()
        self._syncing = False
        self._flags: dict[tuple[str, str], list[Issue]] = {}
        self._flags_of: InvoiceSet | None = None
        self._register_seen = self._register_stamp()
        self.prepared = prepared or prepare(self.options)
        if interactive:
            self._build()
        self.set_method(self.method)

    @classmethod
    def from_parameters(
        cls, *, interactive: bool = True, compare_with: str = "", **parameters: Any
    ) -> Workbook:
        """The workbook a notebook's parameters describe (see ``options.from_notebook``)."""
        return cls(from_notebook(**parameters), interactive=interactive, compare_with=compare_with)

    # --- state ------------------------------------------------------------------------------------

    @property
    def run_options(self) -> RunOptions:
        """The options an export runs with: the notebook's, with the method picked in the workbook."""
        return replace(self.options, method=self.method, force_method=self.force_method)

    @property
    def invoices(self) -> pd.DataFrame:
        """Every invoice of the chosen method."""
        return self.invoice_set.invoices

    @property
    def preview_invoices(self) -> pd.DataFrame:
        """The invoices the filters leave."""
        return filter_invoices(self.invoices, self.customer, self.po)

    @property
    def preview_invoice_count(self) -> int:
        return len(self.preview_invoices)

    def set_method(self, method: str) -> None:
        """Consolidate by another method: the preview first, then the burn-down, checklist and comparison.

        Only the consolidation runs again (the month was read and checked once); the last few
        methods' results are kept, so going back to one is immediate.
        """
        start = time.perf_counter()
        method, previous = normalise_method(method), self.method
        # comparing a method with itself says nothing: compare with the last one instead
        if method == self.compare_with:
            self.compare_with = (
                previous if previous != method else next(m for m in DEFAULT_METHODS if m != method)
            )
        self.method = method
        key = (self.method, self.force_method)
        cached = self._analyses.get(key)
        self.invoice_set = (
            cached.invoice_set if cached else consolidate_month(self.run_options, self.prepared[0])
        )
        self._show_method()
        self.timings["preview_seconds"] = time.perf_counter() - start
        self.analysis = cached or finish_analysis(self.run_options, self.prepared, self.invoice_set)
        self._analyses[key] = self.analysis
        self._analyses.move_to_end(key)
        while len(self._analyses) > CACHE_SIZE:
            self._analyses.popitem(last=False)
        self._show_month()
        self.timings["switch_seconds"] = time.perf_counter() - start

    def set_force_method(self, force: bool) -> None:
        """Use the method for every customer (True) or only where a customer has no method of its own."""
        self.force_method = bool(force)
        self.set_method(self.method)

    def set_customer(self, customer: str | None) -> None:
        self.customer = customer or ALL
        self._show_preview()

    def set_po(self, po: str | None) -> None:
        self.po = po or ALL
        self._show_preview()

    def select_invoice(self, number: str | None) -> None:
        self.selected_invoice = number
        self._show_invoice()

    def set_compare(self, method: str) -> None:
        """The second method of the side-by-side comparison."""
        self.compare_with = normalise_method(method)
        self._show_comparison()

    def reload(self) -> None:
        """Read the month again (after the inputs were fixed, or a final export took items)."""
        self._register_seen = self._register_stamp()
        self.prepared = prepare(self.options)
        self._analyses.clear()
        self._comparisons.clear()
        self.set_method(self.method)

    def comparison(self) -> Comparison:
        """The chosen method and the comparison method side by side, each applied as the run applies the
        chosen one: for every customer when forced, else as the default beside customers' own methods."""
        key = (self.method, self.compare_with, self.force_method)
        if key not in self._comparisons:
            prep = self.prepared[0]
            self._comparisons[key] = compare_methods(
                prep,
                list(key[:2]),
                force=self.force_method,
                billing_groups=prep.inputs.table("billing_groups"),
                billing_entities=prep.inputs.table("billing_entities"),
            )
            while len(self._comparisons) > CACHE_SIZE:
                self._comparisons.popitem(last=False)
        return self._comparisons[key]

    def _customer_invoices(self) -> pd.DataFrame:
        return filter_invoices(self.invoices, self.customer)

    # --- export -----------------------------------------------------------------------------------

    def export(self) -> RunResult | None:
        """The Export button: ``write_invoices``, or None when it fails (the status line says why)."""
        try:
            return self.write_invoices()
        except BillingError as exc:
            self._set_status(f"Export failed, nothing was written: {exc}", ok=False)
            return None

    def write_invoices(self) -> RunResult:
        """Write the chosen method's invoices (draft or final per the parameters); ``BillingError`` if not.

        The invoices are the ones the preview shows, unless the register changed since the month was
        read (another run invoiced some of its items): then the month is read again first.
        """
        options = self.run_options
        kind = "draft" if options.draft else "final"
        if self._register_stamp() != self._register_seen:
            self._progress(0, "the invoice register changed since the month was read: reading it again")
            self.reload()
        self._progress(0, f"exporting {kind} invoices to {options.out_dir}")
        result = run_invoice(options, progress=self._progress_step, analysis=self.analysis)
        files = sum(1 for p in result.out_dir.rglob("*") if p.is_file())
        self.last_result = result
        self._progress(EXPORT_STEPS, "done")
        self._set_status(
            f"{len(result.invoice_numbers):,} {kind} invoices written to {result.out_dir} ({files:,} files).",
            ok=True,
        )
        if not options.draft and self.interactive:
            self.reload()  # the register now holds these items: the preview must not offer them again
        return result

    def _register_stamp(self) -> tuple[int, int] | None:
        """When and how big the invoice register was last written (None: there is none yet)."""
        path = self.options.register_path
        return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None

    def export_if_requested(self, export: bool) -> page.Html | None:
        """The batch's export (``export`` parameter True): no clicks; errors stop the notebook."""
        if not export:
            return None
        self.write_invoices()
        return page.Html(f'<p class="billing-ok">{page.esc(self.status_text)}</p>')

    def _progress(self, value: int, message: str) -> None:
        self.progress_value = value
        if self.interactive:
            self.w_progress.value = value
            self.w_progress.description = "Export" if value < EXPORT_STEPS else "Done"
            self._set_status(message, ok=True)
        else:
            print(f"… {message}", flush=True)

    def _progress_step(self, message: str) -> None:
        self._progress(min(self.progress_value + 1, EXPORT_STEPS - 1), message)

    def _set_status(self, text: str, ok: bool) -> None:
        self.status_text, self.status_ok = text, ok
        if self.interactive:
            css = "billing-ok" if ok else "billing-error"
            self.w_status.value = f'<span class="{css}">{page.esc(text)}</span>'

    # --- widgets ----------------------------------------------------------------------------------

    def _build(self) -> None:
        def dropdown(
            description: str, options: list[tuple[str, str]], value: str, css: str, width: str = "320px"
        ) -> w.Dropdown:
            box = w.Dropdown(
                options=options,
                value=value,
                description=description,
                layout=w.Layout(width=width),
                style={"description_width": "initial"},
            )
            box.add_class(css)
            return box

        self.w_css = w.HTML(page.CSS)
        self.w_header = w.HTML()
        self.w_method = dropdown("Consolidate by", method_options(), self.method, "billing-method")
        self.w_force = w.Checkbox(
            value=self.force_method,
            description="for every customer",
            indent=False,
            layout=w.Layout(width="170px"),
        )
        self.w_force.add_class("billing-force")
        self.w_customer = dropdown("Customer", [("All customers", ALL)], ALL, "billing-customer", "360px")
        self.w_po = dropdown("PO", [("All POs", ALL)], ALL, "billing-po", "260px")
        self.w_invoice = w.Dropdown(
            options=[],
            description="Invoice",
            layout=w.Layout(width="720px"),
            style={"description_width": "initial"},
        )
        self.w_invoice.add_class("billing-invoice")
        self.w_count = w.HTML()
        self.w_count.add_class("billing-invoice-count")
        self.w_preview = w.HTML()
        self.w_preview.add_class("billing-preview")
        kind = "draft" if self.options.draft else "final"
        self.w_export = w.Button(
            description=f"Export {kind} invoices",
            icon="file-excel",
            button_style="primary" if self.options.draft else "warning",
            tooltip=f"write the {kind} invoices of the chosen method to {self.options.out_dir}",
            layout=w.Layout(width="200px"),
        )
        self.w_export.add_class("billing-export")
        self.w_progress = w.IntProgress(
            value=0, min=0, max=EXPORT_STEPS, description="Export", layout=w.Layout(width="260px")
        )
        self.w_progress.add_class("billing-progress")
        self.w_status = w.HTML()
        self.w_status.add_class("billing-status")
        self.w_compare = dropdown("Compare with", method_options(), self.compare_with, "billing-compare")
        self.w_compare_go = w.Button(description="Compare", icon="columns", layout=w.Layout(width="110px"))
        self.w_compare_go.add_class("billing-compare-go")
        self.w_comparison = w.HTML()
        self.w_comparison.add_class("billing-comparison")
        self.w_burndown = w.HTML()
        self.w_burndown.add_class("billing-burndown")
        self.w_chart = w.Output()
        self.w_chart.add_class("billing-chart")
        self.w_checklist = w.HTML()
        self.w_checklist.add_class("billing-checklist")

        self._observe(self.w_method, self.set_method)
        self._observe(self.w_force, self.set_force_method)
        self._observe(self.w_customer, self.set_customer)
        self._observe(self.w_po, self.set_po)
        self._observe(self.w_invoice, self.select_invoice)
        self._observe(self.w_compare, self.set_compare)
        self.w_compare_go.on_click(lambda _button: self._guarded(self._show_comparison))
        self.w_export.on_click(lambda _button: self._guarded(self._export_clicked))

    def _observe(self, widget: w.ValueWidget, handler: Callable[[Any], None]) -> None:
        def changed(change: dict[str, Any]) -> None:
            if not self._syncing:
                self._guarded(lambda: handler(change["new"]))

        widget.observe(changed, names="value")

    def _guarded(self, action: Callable[[], object]) -> None:
        """Run a widget's action; a user error shows in the status line (a callback has nowhere to raise)."""
        try:
            action()
        except BillingError as exc:
            self._set_status(str(exc), ok=False)
        except Exception as exc:  # a bug: say so where the user looks, and let ipywidgets log the traceback
            self._set_status(f"internal error ({type(exc).__name__}: {exc}); nothing was written", ok=False)
            raise

    def _export_clicked(self) -> None:
        self.w_export.disabled = True
        try:
            self.export()
        finally:
            self.w_export.disabled = False

    def _set(self, widget: w.ValueWidget, value: Any, options: list[tuple[str, str]] | None = None) -> None:
        """Mirror state into a widget without its observer calling back."""
        self._syncing = True
        try:
            if options is not None and list(widget.options) != options:
                widget.options = options
            widget.value = value
        finally:
            self._syncing = False

    # --- state -> view ----------------------------------------------------------------------------

    def _show_method(self) -> None:
        """After a method change: the count and preview first, then the filters and the picker."""
        # customers with an invoice, those whose items are all held, and every customer of the companies
        # table (the app's filters apply to exceptions and issued invoices too)
        columns = ["customer_id", "customer_name"]
        prep = self.prepared[0]
        known = [self.invoices[columns], prep.held[columns]]
        if set(columns) <= set(prep.companies.columns):
            known.append(prep.companies[columns])
        every = pd.concat(known).dropna().astype("str")
        customers = customer_choices(every[every["customer_id"] != ""])
        if self.customer not in {v for _, v in customers}:
            self.customer = ALL
        self._show_preview()
        if self.interactive:
            self._set(self.w_method, self.method)
            self._set(self.w_force, self.force_method)
            self._set(self.w_customer, self.customer, customers)

    def _show_preview(self) -> None:
        """After a filter change: the count, the selected invoice, then the PO choices and the picker."""
        pos = po_choices(self._customer_invoices())
        if self.po not in {v for _, v in pos}:
            self.po = ALL
        shown = self.preview_invoices
        numbers = list(shown["invoice_number"])
        if self.selected_invoice not in set(numbers):
            self.selected_invoice = numbers[0] if numbers else None
        if not self.interactive:
            return
        self.w_count.value = report_html.count_html(
            len(shown), len(self.invoices), self.options.draft, self.method
        )
        self._show_invoice()
        listed = shown.head(PICKER_LIMIT)
        if self.selected_invoice is not None and self.selected_invoice not in set(listed["invoice_number"]):
            listed = pd.concat([shown[shown["invoice_number"] == self.selected_invoice], listed])
        labels = list(zip(report_html.invoice_labels(listed), listed["invoice_number"], strict=True))
        self._set(self.w_invoice, self.selected_invoice, labels)
        self.w_invoice.description = (
            "Invoice" if len(shown) <= PICKER_LIMIT else f"Invoice (first {PICKER_LIMIT})"
        )
        self._set(self.w_po, self.po, pos)

    def _show_invoice(self) -> None:
        if not self.interactive:
            return
        if self.selected_invoice is None:
            self.w_preview.value = "<p>No invoice: nothing to invoice for this choice.</p>"
        else:
            self.w_preview.value = report_html.invoice_html(
                self.invoice_set.record(self.selected_invoice)
            ) + report_html.flags_html(self.invoice_flags(self.selected_invoice))

    def invoice_flags(self, number: str) -> list[Issue]:
        """The flags of the items on one invoice (an unknown PO, a PO past its budget, a late item)."""
        if self._flags_of is not self.invoice_set:
            self._flags = {}
            for issue in [*self.prepared[0].issues, *self.invoice_set.issues]:
                if issue.action == "flagged" and issue.item_id:
                    self._flags.setdefault((issue.source_table, issue.item_id), []).append(issue)
            self._flags_of = self.invoice_set
        rows = self.invoice_set.invoice_items(number)
        keys = zip(rows["source_table"].astype("str"), rows["item_id"].astype("str"), strict=True)
        return [issue for key in dict.fromkeys(keys) for issue in self._flags.get(key, [])]

    def _show_month(self) -> None:
        """After a method change: header, burn-down table and chart, checklist, comparison."""
        if not self.interactive:
            return
        self.w_header.value = self.header_html()
        bd = self.analysis.burndown
        self.w_burndown.value = report_html.status_counts_html(bd) + report_html.burndown_html(bd)
        # most methods leave the burn-down as it was: draw the chart only when it changed
        if self._charted is None or not bd.equals(self._charted):
            self._charted, self.overview_png = bd, report_images.overview_png(bd)
            self.w_chart.outputs = (_mime_png(self.overview_png, "PO budgets used"),)
        self.w_checklist.value = report_html.checklist_html(render_text(self.analysis.checklist))
        self._show_comparison(auto=True)

    def _show_comparison(self, auto: bool = False) -> None:
        """The comparison; after a method change on a big month only on request (it consolidates twice)."""
        if not self.interactive:
            return
        self._set(self.w_compare, self.compare_with)
        key = (self.method, self.compare_with, self.force_method)
        if auto and key not in self._comparisons and len(self.prepared[0].items) > AUTO_COMPARE_ITEMS:
            self.w_comparison.value = (
                f"<p>Press <b>Compare</b> to consolidate the month by {page.esc(LABELS[self.method])} "
                f"and by {page.esc(LABELS[self.compare_with])} side by side.</p>"
            )
            self.w_compare_go.disabled = False
            return
        self.w_comparison.value = report_html.comparison_html(self.comparison())
        self.w_compare_go.disabled = True

    def header_html(self) -> str:
        return report_html.header_html(self.analysis, self.options)

    # --- the notebook's cells ---------------------------------------------------------------------

    def invoices_panel(self) -> Any:
        """Method, filters, invoice count and preview, Export (interactive); the invoice list otherwise."""
        if not self.interactive:
            return page.Html(
                self.header_html()
                + report_html.count_html(
                    len(self.invoices), len(self.invoices), self.options.draft, self.method
                )
                + report_html.invoices_html(self.invoices)
            )
        controls = w.HBox(
            [self.w_method, self.w_force, self.w_export, self.w_progress],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        filters = w.HBox([self.w_customer, self.w_po], layout=w.Layout(flex_flow="row wrap"))
        app = w.VBox(
            [
                self.w_css,
                self.w_header,
                controls,
                self.w_status,
                filters,
                self.w_count,
                self.w_invoice,
                self.w_preview,
            ],
            layout=w.Layout(padding="4px 8px"),
        )
        app.add_class("billing-app")
        return app

    def comparison_panel(self) -> Any:
        if not self.interactive:
            return page.Html(report_html.comparison_html(self.comparison()))
        box = w.VBox([w.HBox([self.w_compare, self.w_compare_go]), self.w_comparison])
        box.add_class("billing-app")
        return box

    def burndown_panel(self) -> Any:
        """The overview chart, then every PO at risk first."""
        if not self.interactive:
            bd = self.analysis.burndown
            return page.Html(
                report_html.status_counts_html(bd)
                + page.Png([("PO budgets used", report_images.overview_png(bd))])._repr_html_()
                + report_html.burndown_html(bd)
            )
        box = w.VBox([self.w_chart, self.w_burndown])
        box.add_class("billing-app")
        return box

    def checklist_panel(self) -> Any:
        if not self.interactive:
            return page.Html(report_html.checklist_html(render_text(self.analysis.checklist)))
        return self.w_checklist


__all__ = ["ALL", "NO_PO", "Workbook", "filter_invoices"]

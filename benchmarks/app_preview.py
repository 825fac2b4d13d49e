"""How fast the analyst's app answers a change at 200,000 items (SPEC section 8; a figure, not a timed test).

    .venv/bin/python benchmarks/app_preview.py                # 200,000 items
    .venv/bin/python benchmarks/app_preview.py --scale 20000

Builds the app (``billing_lib.ui.app.App``, widgets without a browser) on a month from
``billing sample --scale N`` (reused from ``benchmarks/work/``), then times, best of 3, what a click
costs in the kernel: a customer filter (the preview, the exceptions table and the budgets), a PO
filter, a reason filter, and a change of method (the preview, before the burn-down and checklist
follow). Prints one line per change and PASS/FAIL against the one-second target.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 1.0


def best_of(action: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    args = parser.parse_args()
    month = args.work / f"month-{args.scale}"
    if not month.exists():
        from billing_lib.sample.synthetic import write_sample

        write_sample(month, args.scale, period="2026-10")
    os.environ["BILLING_OUTPUTS"] = tempfile.mkdtemp(prefix="app-bench-")
    from billing_lib.ui.app import App

    start = time.perf_counter()
    app = App.from_parameters(inputs=str(month), period="2026-10")
    opened = time.perf_counter() - start
    wb = app.workbook
    assert wb is not None, app.message
    customer = next(v for _, v in wb.w_customer.options if v)
    po = next(v for _, v in wb.w_po.options if v not in ("", "\u2205"))
    reason = next(v for _, v in app.w_reason.options if v)

    def customer_filter() -> None:
        wb.w_customer.value = customer
        wb.w_customer.value = ""

    def po_filter() -> None:
        wb.w_po.value = po
        wb.w_po.value = ""

    def reason_filter() -> None:
        app.w_reason.value = reason
        app.w_reason.value = ""

    def method() -> None:
        wb.w_method.value = "customer" if wb.method != "customer" else "po_number"

    figures = {
        "customer filter (set and clear)": best_of(customer_filter) / 2,
        "PO filter (set and clear)": best_of(po_filter) / 2,
        "reason filter (set and clear)": best_of(reason_filter) / 2,
    }
    method()  # the first change of method consolidates; later ones come from the kept results
    figures["method change: preview"] = wb.timings["preview_seconds"]
    figures["method change: preview, budgets, checklist"] = wb.timings["switch_seconds"]
    print(f"app at {args.scale:,} items: {len(app.exceptions):,} exceptions, opened in {opened:.2f} s")
    worst = 0.0
    for name, seconds in figures.items():
        print(f"  {name:<45} {seconds:6.3f} s")
        if "budgets" not in name:
            worst = max(worst, seconds)
    verdict = "PASS" if worst < TARGET_SECONDS else "FAIL"
    print(f"{verdict}: slowest response to a change {worst:.3f} s (target under {TARGET_SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

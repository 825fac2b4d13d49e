"""The workbook as a Voilà app in a real browser: pick a method, see the right invoice count, export a draft.

Voilà serves ``notebooks/billing_workbook.ipynb`` on a free local port; Playwright drives Debian's
chromium (``scripts/ensure_chromium.sh`` installs it). The notebook's defaults are pointed at the
session's sample month and a temporary ``outputs/`` through ``BILLING_INPUTS`` / ``BILLING_OUTPUTS``
(Voilà cannot pass papermill parameters). A screenshot is saved with the test's files; set
``BILLING_UPDATE_SCREENSHOT=1`` to also refresh ``docs/voila-screenshot.png``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from billing_lib.core.consolidate import LABELS
from billing_lib.io import locations
from billing_lib.run.options import from_notebook
from billing_lib.run.pipeline import analyse

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_SECONDS = 60  # Voilà answering HTTP
APP_SECONDS = 120  # the kernel reading the month and drawing the widgets
METHOD = "customer"  # picked in the browser; the notebook opens on po_number


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def voila(notebook_env: Path, tmp_path: Path) -> Iterator[str]:
    """A Voilà server for the workbook notebook; its URL. Always stopped, with its kernels, at the end."""
    port = free_port()
    log = (tmp_path / "voila.log").open("w")
    command = [
        sys.executable,
        "-m",
        "voila",
        str(locations.NOTEBOOK_DIR / "billing_workbook.ipynb"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]
    server = subprocess.Popen(
        command,
        cwd=locations.PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:  # listening is enough: a GET of the page would start a kernel of its own
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Voilà did not start: {(tmp_path / 'voila.log').read_text()}"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # Voilà and the kernels it started, nothing else
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)
        log.close()


def test_pick_method_and_export_in_the_browser(
    voila: str, notebook_env: Path, sample_month: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM.exists(), "no /usr/bin/chromium: run scripts/ensure_chromium.sh"
    options = from_notebook(inputs=str(sample_month), period="2026-10", method=METHOD)
    expected = len(analyse(options).invoice_set.invoices)
    opening = len(analyse(from_notebook(inputs=str(sample_month))).invoice_set.invoices)
    assert expected != opening  # otherwise the count could not show the pick took effect

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(voila, timeout=APP_SECONDS * 1000)
            count = page.locator(".billing-invoice-count")
            expect(count).to_contain_text(f"{opening} draft invoices", timeout=APP_SECONDS * 1000)

            page.locator(".billing-method select").select_option(label=LABELS[METHOD])
            expect(count).to_contain_text(f"{expected} draft invoices · Customer", timeout=30_000)

            page.locator("button.billing-export").click()
            status = page.locator(".billing-status")
            expect(status).to_contain_text("draft invoices written to", timeout=120_000)
            shown = status.inner_text()
            page.screenshot(path=str(tmp_path / "voila-screenshot.png"))
            page.set_viewport_size({"width": 1280, "height": 4000})  # Voilà scrolls inside: show all
            page.screenshot(path=str(tmp_path / "voila-full.png"))
        finally:
            browser.close()

    out = notebook_env / "2026-10" / "drafts"  # the app keeps drafts apart from the issued invoices
    written = pd.read_csv(out / "invoices.csv", dtype=str)
    assert len(written) == expected
    assert all(n.startswith("DRAFT-") for n in written["invoice_number"])
    assert len(list((out / "invoices").glob("*.xlsx"))) == expected
    assert shown.startswith(f"{expected} draft invoices written to {out} (")
    if os.environ.get("BILLING_UPDATE_SCREENSHOT") == "1":
        docs = locations.PROJECT_ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "voila-screenshot.png", docs / "voila-screenshot.png")


def test_the_analysts_month_in_the_browser(
    voila: str, notebook_env: Path, sample_month: Path, tmp_path: Path
) -> None:
    """Change the period, upload the month, give a held item a PO, issue behind the confirmation, see the
    register, download the period's zip and open it."""
    from playwright.sync_api import expect, sync_playwright

    wait = APP_SECONDS * 1000
    exports = sorted(str(p) for p in sample_month.glob("*.xlsx"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(voila, timeout=wait)
            message = page.locator(".billing-message")
            expect(message).to_contain_text("2026-10: 400 billable rows read", timeout=wait)
            expect(page.locator("body")).not_to_contain_text("papermill")
            expect(page.locator("body")).not_to_contain_text("export = True")

            page.locator(".billing-period select").select_option("2026-11")
            expect(message).to_contain_text("2026-11:", timeout=60_000)
            page.locator(".billing-period select").select_option("2026-10")
            expect(message).to_contain_text("2026-10:", timeout=60_000)

            with (
                page.expect_file_chooser() as chooser
            ):  # FileUpload's input is not in the page: its button opens it
                page.locator(".billing-upload").click()
            chooser.value.set_files(exports)
            uploads = notebook_env / "inputs" / "2026-10"
            expect(page.locator(".billing-header")).to_contain_text(str(uploads), timeout=60_000)
            expect(message).to_contain_text("2026-10: 400 billable rows read from 2026-10")
            assert sorted(p.name for p in uploads.glob("*.xlsx")) == sorted(Path(e).name for e in exports)

            page.get_by_role("tab", name="Exceptions").click()
            reasons = page.locator(
                ".billing-reason select option"
            ).all_inner_texts()  # labels use no-break spaces
            wanted = next(i for i, text in enumerate(reasons) if "requires" in text and "PO" in text)
            page.locator(".billing-reason select").select_option(index=wanted)
            table = page.locator(".billing-exceptions")
            expect(table).to_contain_text(
                "The customer requires a PO and this item has none.", timeout=30_000
            )
            item = table.locator("tbody tr").first.locator("td").nth(2).inner_text()
            table.locator("tbody tr").first.click()
            # the selection reaches the kernel asynchronously: the app says which item it now applies to
            expect(page.locator(".billing-selected")).to_contain_text(
                f"Selected: item {item}", timeout=60_000
            )
            page.locator(".billing-value input").fill("4500012345")
            page.locator(".billing-note-text input").fill("PO from the buyer's e-mail")
            page.locator("button.billing-record").click()
            expect(message).to_contain_text(f"Recorded for item {item.split()[-1]}", timeout=60_000)
            kept = (uploads / "adjustments.csv").read_text()
            assert f"{item.split()[-1]},set_po,4500012345,PO from the buyer's e-mail" in kept

            page.get_by_role("tab", name="Checklist, issue").click()
            page.locator("button.billing-issue").click()
            confirm = page.locator(".billing-confirm")
            expect(confirm).to_contain_text("final invoices for 2026-10", timeout=30_000)
            expect(confirm).to_contain_text("not ready")
            page.locator("button.billing-confirm-yes").dblclick()  # a double click issues once
            issued = page.locator(".billing-issued")
            expect(issued).to_contain_text("Issued:", timeout=120_000)
            expect(issued).to_contain_text("INV-202610-0001")

            page.get_by_role("tab", name="Register, files").click()
            expect(page.locator(".billing-register")).to_contain_text("INV-202610-0001", timeout=30_000)
            page.locator("button.billing-zip").click()
            link = page.locator("a.billing-download")
            expect(link).to_be_visible(timeout=60_000)
            with page.expect_download() as download:
                link.click()
            saved = tmp_path / "month.zip"
            download.value.save_as(saved)
            page.screenshot(path=str(tmp_path / "voila-app.png"))
        finally:
            browser.close()

    import sqlite3
    import zipfile

    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        manifest = archive.read("2026-10/manifest.json").decode()
    assert "2026-10/invoices.csv" in names and '"draft": false' in manifest
    assert "PO from the buyer's e-mail" in manifest  # the adjustment is listed
    with sqlite3.connect(notebook_env / "register.sqlite") as db:
        numbers = [r[0] for r in db.execute("SELECT invoice_number FROM invoices")]
    assert numbers and len(numbers) == len(set(numbers))
    assert len([n for n in names if n.startswith("2026-10/invoices/") and n.endswith(".xlsx")]) == len(
        numbers
    )

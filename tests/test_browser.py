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

from billing_lib import config, report
from billing_lib.consolidate import LABELS
from billing_lib.pipeline import analyse

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
        str(config.NOTEBOOK_DIR / "billing_workbook.ipynb"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]
    server = subprocess.Popen(
        command,
        cwd=config.PROJECT_ROOT,
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
    options = report.options_from_parameters(inputs=str(sample_month), period="2026-10", method=METHOD)
    expected = len(analyse(options).invoice_set.invoices)
    opening = len(analyse(report.options_from_parameters(inputs=str(sample_month))).invoice_set.invoices)
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

    out = notebook_env / "2026-10"
    written = pd.read_csv(out / "invoices.csv", dtype=str)
    assert len(written) == expected
    assert all(n.startswith("DRAFT-") for n in written["invoice_number"])
    assert len(list((out / "invoices").glob("*.xlsx"))) == expected
    assert shown.startswith(f"{expected} draft invoices written to {out} (")
    if os.environ.get("BILLING_UPDATE_SCREENSHOT") == "1":
        docs = config.PROJECT_ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "voila-screenshot.png", docs / "voila-screenshot.png")

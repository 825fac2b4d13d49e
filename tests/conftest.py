"""Shared fixtures: one small synthetic month per test session, the notebooks' environment, and the PO
tracking month (``po_month``) with its report."""

from __future__ import annotations

from pathlib import Path

import pytest
from po_month import analysed_month

from billing_lib.run.pipeline import Analysis
from billing_lib.sample.synthetic import write_sample
from billing_lib.ui import po_report

SAMPLE_PERIOD = "2026-10"
SAMPLE_SCALE = 400  # billable items: every method gives several invoices, the whole session stays fast


@pytest.fixture(autouse=True)
def private_outputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test's default ``outputs/`` (and so its default register) is its own temporary folder.

    Without this a test that relies on the defaults would read the project's real
    ``outputs/register.sqlite``, where ``./dev run`` has invoiced the very same sample month.
    """
    outputs = tmp_path / "default-outputs"
    monkeypatch.setenv("BILLING_OUTPUTS", str(outputs))
    return outputs


@pytest.fixture(scope="session")
def sample_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small month of inputs (``billing sample --scale 400``), written once per session; read-only."""
    folder = tmp_path_factory.mktemp("sample") / SAMPLE_PERIOD
    write_sample(folder, SAMPLE_SCALE, period=SAMPLE_PERIOD)
    return folder


@pytest.fixture()
def notebook_env(monkeypatch: pytest.MonkeyPatch, sample_month: Path, tmp_path: Path) -> Path:
    """Notebooks' defaults pointed at the sample month and a temporary ``outputs/`` (returned)."""
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("BILLING_INPUTS", str(sample_month))
    monkeypatch.setenv("BILLING_OUTPUTS", str(outputs))
    return outputs


@pytest.fixture()
def tracking_month(tmp_path: Path) -> Analysis:
    """The PO tracking month (``po_month``) analysed as a draft, with earlier invoicing."""
    return analysed_month(tmp_path)


@pytest.fixture()
def tracking(tracking_month: Analysis) -> po_report.PoReport:
    """The PO tracking report of that month at the default thresholds."""
    return po_report.build(tracking_month, "50, 75, 90, 100")

"""Where things live: the one place paths come from (the run's defaults are in ``run.options``)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # billing_lib/
PROJECT_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
TEMPLATE_DIR = DATA_DIR / "templates"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"


def outputs_root() -> Path:
    """``outputs/`` of the working directory (``BILLING_OUTPUTS`` moves it)."""
    return Path(os.environ.get("BILLING_OUTPUTS", "outputs")).resolve()


def default_out(period: str) -> Path:
    return outputs_root() / period


def default_register() -> Path:
    return outputs_root() / "register.sqlite"


def notebook_outputs_root() -> Path:
    """The project's ``outputs/``, for the notebooks (run in ``notebooks/``); ``BILLING_OUTPUTS`` moves it."""
    moved = os.environ.get("BILLING_OUTPUTS")
    return Path(moved).resolve() if moved else PROJECT_ROOT / "outputs"


def notebook_inputs() -> Path:
    """The notebooks' default inputs: ``BILLING_INPUTS`` if set (Voilà has no parameters), else the sample."""
    moved = os.environ.get("BILLING_INPUTS")
    return Path(moved).resolve() if moved else SAMPLE_DIR


def read_in_two_processes() -> bool | None:
    """``BILLING_READ_PROCESSES``: 1 reads a month's files in this process only, 2 always in two; unset,
    a large month is read in two when there is a second core. ``billing batch`` sets 1 for its
    notebooks, which already run side by side."""
    value = os.environ.get("BILLING_READ_PROCESSES", "").strip()
    return {"1": False, "2": True}.get(value)

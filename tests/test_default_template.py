"""The factory template: the committed file is what ``build_default_template`` makes."""

from __future__ import annotations

from pathlib import Path

from billing_lib.io import (
    default_template,
    xlsx_template,
)


def test_default_template_file_is_the_factory_template(tmp_path: Path) -> None:
    assert xlsx_template.DEFAULT_TEMPLATE.exists(), "run data/templates/make_template.py"
    fresh = tmp_path / "invoice_template.xlsx"
    default_template.build_default_template().save(fresh)
    committed = xlsx_template.load_template()
    assert (committed.invoice, committed.detail) == (
        xlsx_template.load_template(fresh).invoice,
        xlsx_template.load_template(fresh).detail,
    )

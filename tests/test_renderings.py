"""One month in every rendering real exports come in gives the same invoices, amounts and currencies.

``billing sample --style S --culture C`` writes the sample month as REST xlsx (the default), Windows
PowerShell 5.1 and PowerShell 7 ``Export-Csv`` in en-US and de-DE (PowerShell issues #13592, #19536,
#15828, #5131), SOAP-era names, and report workbooks with screen labels and names instead of ids.
The PowerShell, SOAP and report renderings also carry Autotask's own shape: work types at 0.0000 with
the rate on the role, and companies' currencyID / countryID read through Currencies / Countries.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from billing_lib.run.cli import main
from billing_lib.run.options import RunOptions
from billing_lib.run.pipeline import Analysis, analyse
from billing_lib.sample.synthetic import write_sample

RENDERINGS = [
    ("powershell51", "en-US"),
    ("powershell51", "de-DE"),
    ("powershell7", "en-US"),
    ("powershell7", "de-DE"),
    ("soap", "en-US"),
    ("report", "en-US"),
]
# what must agree to the cent (names are not compared: Windows PowerShell 5.1 writes ASCII, "ü" as "?")
INVOICE_COLUMNS = ["invoice_number", "customer_id", "currency", "billing_entity", "group_key", "po_number",
                   "item_count", "line_count", "net_minor", "tax_minor", "total_minor"]  # fmt: skip


def month_of(folder: Path) -> Analysis:
    return analyse(RunOptions(inputs=folder, period="2026-10", register=folder / "none.sqlite", draft=True))


def invoices(analysis: Analysis) -> list[dict[str, object]]:
    frame = analysis.invoice_set.invoices[INVOICE_COLUMNS]
    return frame.astype(str).to_dict("records")  # type: ignore[no-any-return]


def items(analysis: Analysis) -> list[tuple[object, ...]]:
    frame = analysis.invoice_set.items
    cols = ["invoice_number", "source_table", "item_id", "customer_id", "currency", "amount_minor"]
    quantities = [f"{q.normalize():f}" for q in frame["quantity"]]  # 1.0 in a workbook, 1 in a CSV
    return sorted(
        (*row, q) for row, q in zip(frame[cols].astype(str).to_numpy().tolist(), quantities, strict=True)
    )


def held(analysis: Analysis) -> list[tuple[object, ...]]:
    return sorted(
        map(tuple, analysis.held[["source_table", "item_id", "reason"]].astype(str).to_numpy().tolist())
    )


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    folder = tmp_path_factory.mktemp("rest")
    write_sample(folder, 400)
    return month_of(folder)


@pytest.mark.parametrize(("style", "culture"), RENDERINGS)
def test_every_rendering_of_the_month_gives_the_same_invoices(
    rest: Analysis, tmp_path: Path, style: str, culture: str
) -> None:
    write_sample(tmp_path, 400, style=style, culture=culture)
    month = month_of(tmp_path)
    assert invoices(month) == invoices(rest)
    assert items(month) == items(rest)
    assert held(month) == held(rest)
    # nothing read on a guess: no number or date held as ambiguous, every rendering
    assert not [i for i in month.issues if i.reason.startswith("ambiguous")]
    totals = month.invoice_set.invoices.groupby("currency")["total_minor"].sum().to_dict()
    assert totals == rest.invoice_set.invoices.groupby("currency")["total_minor"].sum().to_dict()
    assert set(totals) == {"EUR", "GBP"}


def test_the_renderings_have_the_shapes_of_real_exports(tmp_path: Path) -> None:
    for style, culture in (("powershell51", "de-DE"), ("powershell7", "en-US"), ("powershell7", "de-DE")):
        assert main(["sample", "--out", str(tmp_path / f"{style}-{culture}"), "--scale", "120",
                     "--style", style, "--culture", culture]) == 0  # fmt: skip
    ps51 = (tmp_path / "powershell51-de-DE" / "BillingItems.csv").read_bytes()
    lines = ps51.decode("ascii").split("\r\n")
    assert lines[0] == "#TYPE System.Management.Automation.PSCustomObject"
    assert lines[2].startswith('"80000001","2026-10-06T00:00:00Z","101",')  # every field quoted
    assert '"386,645"' in lines[2] and '"2026-10-06T00:00:00Z"' in lines[2]
    companies = (tmp_path / "powershell51-de-DE" / "Companies.csv").read_bytes()
    assert b'"M?ller & S?hne GmbH / IT"' in companies  # ASCII, as 5.1 writes by default
    en = (tmp_path / "powershell7-en-US" / "BillingItems.csv").read_bytes().decode("utf-8").split("\r\n")
    de = (tmp_path / "powershell7-de-DE" / "BillingItems.csv").read_bytes().decode("utf-8").split("\r\n")
    assert not en[0].startswith("#TYPE")
    assert '"10/6/2026 12:00:00 AM"' in en[1] and '"386.645"' in en[1]
    assert '"06.10.2026 00:00:00"' in de[1] and '"386,645"' in de[1] and '"System.Object[]"' in de[1]
    # the Autotask shape: the rate on the role, the currency as an id
    assert (tmp_path / "powershell7-en-US" / "Roles.csv").exists()
    assert (
        '"currencyID"'
        in (tmp_path / "powershell7-en-US" / "Companies.csv").read_bytes().decode().split("\r\n")[0]
    )


def test_report_and_soap_renderings_use_their_vocabularies(tmp_path: Path) -> None:
    write_sample(tmp_path / "report", 120, style="report")
    write_sample(tmp_path / "soap", 120, style="soap")
    assert {p.name for p in (tmp_path / "soap").iterdir()} >= {
        "Account.csv", "TicketCost.csv", "ContractCost.csv", "ProjectCost.csv", "AllocationCode.csv",
    }  # fmt: skip
    assert "AllocationCodeID" in (tmp_path / "soap" / "TimeEntries.csv").read_text().splitlines()[0]
    sheet = CalamineWorkbook.from_path(str(tmp_path / "report" / "TicketCharges.xlsx")).get_sheet_by_index(0)
    rows = sheet.to_python()
    heading = rows[3]
    assert {"Purchase Date", "Is Billable to Company", "Billable Amount", "Ticket Number"} <= set(heading)
    assert rows[-1][0] == "Total"
    organizations = CalamineWorkbook.from_path(str(tmp_path / "report" / "Organizations.xlsx"))
    assert {"Organization ID", "Organization Name"} <= set(organizations.get_sheet_by_index(0).to_python()[3])
    bi = pd.DataFrame(CalamineWorkbook.from_path(str(tmp_path / "report" / "BillingItems.xlsx"))
                      .get_sheet_by_index(0).to_python()[4:], dtype=object)  # fmt: skip
    assert "Northwind Logistics BV" in set(bi[2])  # the organisation by name, not id

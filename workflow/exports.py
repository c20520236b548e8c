"""Exports (issue 15): the filtered worklist and a call's ledger as CSV and XLSX, with German
column names; in XLSX numbers are numbers (euros as Decimal with two places) and dates are
dates, so a spreadsheet sums and sorts them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session

from notifications.formatting import BERLIN
from states.staff import WorklistSort
from workflow import queries, settlement, worklist
from workflow.rows import Actor


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


def _euros(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _local(moment: datetime | None) -> datetime | None:
    """A moment as Berlin's clock shows it, without offset (spreadsheets know no zones)."""
    return None if moment is None else moment.astimezone(BERLIN).replace(tzinfo=None)


WORKLIST_COLUMNS = ["Aktenzeichen", "Förderaufruf", "Baustein", "Träger", "Kommune", "Quartier",
                    "Titel", "Status", "Sachbearbeitung", "Nächste Frist", "Eingang",
                    "Beantragt (EUR)", "Bewilligt (EUR)"]


def worklist_table(session: Session, actor: Actor, where: worklist.WorklistFilter, *,
                   sort: WorklistSort = WorklistSort.received,
                   descending: bool = False) -> Table:
    rows = []
    for row in worklist.all_rows(session, actor, where, sort=sort, descending=descending):
        item = worklist.worklist_item(row, "de")
        rows.append([item["reference"], item["call"], item["module_code"], item["organisation"],
                     item["municipality"], item["quartier"], item["title"], item["state_label"],
                     item["case_officer_name"], row.next_due_date,
                     _local(item["received_at"]), _euros(row.requested_cents),
                     _euros(row.approved_cents)])
    return Table("Arbeitsliste", WORKLIST_COLUMNS, rows)


LEDGER_COLUMNS = ["Nr.", "Zeitpunkt", "Haushaltsjahr", "Quelle", "Art", "Aktenzeichen",
                  "Bindung (EUR)", "Budget (EUR)", "Auszahlung (EUR)", "Rückzahlung (EUR)",
                  "Mittelabruf", "Vermerk"]
LEDGER_KINDS = {"commit": "Bindung", "release": "Freigabe", "budget_change": "Budgetänderung",
                "paid": "Auszahlung", "repaid": "Rückzahlung"}


def ledger_table(session: Session, code: str) -> Table:
    rows, offset = [], 0
    while True:
        page = queries.ledger_page(session, code, 1000, offset)
        for r in page.items:
            rows.append([r.entry.id, _local(r.entry.at), r.year, r.source,
                         LEDGER_KINDS.get(r.entry.kind, r.entry.kind), r.reference,
                         _euros(r.entry.committed_delta_cents), _euros(r.entry.budget_delta_cents),
                         _euros(r.entry.paid_delta_cents), _euros(r.entry.repaid_delta_cents),
                         r.entry.funds_call_id, r.entry.note])
        offset += 1000
        if offset >= page.total:
            return Table(f"Mittelbuch {code}", LEDGER_COLUMNS, rows)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    # A cell that a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def as_csv(table: Table) -> bytes:
    """Semicolons and decimal commas, as German spreadsheets read them; UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31]
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([("'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
                      for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, datetime):
                cell.number_format = "DD.MM.YYYY HH:MM"
            elif isinstance(cell.value, date):
                cell.number_format = "DD.MM.YYYY"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(table: Table, fmt: ExportFormat) -> bytes:
    return as_xlsx(table) if fmt == ExportFormat.xlsx else as_csv(table)


CLAIM_COLUMNS = ["Aktenzeichen", "Rechtsgrund", "Status", "Hauptforderung (EUR)",
                 "Wirksam ab", "Fällig am", "Getilgt (EUR)", "Zinsen bis Stichtag (EUR)",
                 "davon § 49a Abs. 4 (EUR)", "Zinsen gezahlt (EUR)", "Offen zum Stichtag (EUR)",
                 "Stichtag", "Rückzahlungen", "Beglichen am"]


def claims_table(session: Session, on: date) -> Table:
    """Every repayment claim with its balance on `on` (the settlement, issue 16)."""
    rows = []
    for claim in settlement.all_claims(session, on):
        bal = claim["balance"]
        rows.append([claim["reference"], claim["basis_label"], claim["status_label"],
                     Decimal(claim["principal"]), claim["effective_on"], claim["due_on"],
                     Decimal(claim["principal"]) - Decimal(bal["principal_open"]),
                     Decimal(bal["interest"]), Decimal(bal["late_use_interest"]),
                     Decimal(bal["interest_paid"]), Decimal(bal["open"]), on,
                     len(claim["repayments"]), _local(claim["paid_at"])])
    return Table("Rückforderungen", CLAIM_COLUMNS, rows)

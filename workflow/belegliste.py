"""The Belegliste imported from a file (issue 16): CSV as German Excel writes it (`;` between
fields, "1.234,56", "31.12.2026", UTF-8 with or without BOM, or Windows-1252) or XLSX, with the
columns Datum, Empfänger/Einzahler, Zweck, Betrag, Kostenposition, Jahr and optionally
Belegnummer. Every bad row is named with its reasons; one bad row and nothing is taken."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from workflow.budget import parse_euros
from workflow.errors import InvalidInput, WorkflowError
from workflow.final_report import Beleg, Frame

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
XLSX_MAGIC = b"PK\x03\x04"
# Column name as written (lower case, without spaces) -> field.
COLUMNS = {
    "datum": "date", "belegdatum": "date", "date": "date",
    "empfänger/einzahler": "party", "empfänger": "party", "einzahler": "party",
    "empfaenger/einzahler": "party", "payee": "party", "payee/payer": "party",
    "zweck": "purpose", "verwendungszweck": "purpose", "purpose": "purpose",
    "betrag": "amount", "betrag(eur)": "amount", "betragineuro": "amount", "amount": "amount",
    "kostenposition": "heading", "ausgabenposition": "heading", "heading": "heading",
    "jahr": "year", "haushaltsjahr": "year", "year": "year",
    "belegnummer": "number", "belegnr.": "number", "belegnr": "number", "nr.": "number",
    "number": "number",
}
REQUIRED = ("date", "party", "purpose", "amount", "heading", "year")
LABELS = {"date": "Datum", "party": "Empfänger/Einzahler", "purpose": "Zweck",
          "amount": "Betrag", "heading": "Kostenposition", "year": "Jahr",
          "number": "Belegnummer"}
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _refuse(de: str, en: str, rows: list[dict[str, Any]] | None = None) -> InvalidInput:
    return InvalidInput(de, en, field="file", rows=rows or [])


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise _refuse("Die Datei ist weder UTF-8 noch Windows-1252 kodiert.",
                      "The file is neither UTF-8 nor Windows-1252 encoded.") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise _refuse("Die XLSX-Datei kann nicht gelesen werden.",
                      "The XLSX file cannot be read.") from None
    sheet = book.worksheets[0]
    rows = [list(r) for r, _ in zip(sheet.iter_rows(values_only=True), range(MAX_ROWS + 2),
                                     strict=False)]
    book.close()
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float):
        # An Excel number: its shortest decimal form; cents are rounded as written there.
        return format(Decimal(repr(value)).quantize(Decimal("0.01")), "f")
    return str(value).strip()


def parse_day(text: str) -> date:
    """A date as German Excel writes it (31.12.2026) or ISO."""
    match = GERMAN_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text[:10])


def _amount(text: str) -> int:
    cleaned = text.replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"-?\d+\.\d{1,2}", cleaned):  # 1234.56 as Excel exports numbers
        return parse_euros(cleaned)
    return parse_euros(cleaned.replace(".", "").replace(",", ".") if "," in cleaned
                       else cleaned.replace(".", ""))


def parse_file(data: bytes, frame: Frame) -> list[Beleg]:
    """The entries of a Belegliste file, headings resolved against the approved plan; refuses
    the whole file with every bad row and its reasons."""
    if len(data) > MAX_BYTES:
        raise _refuse("Die Belegliste ist zu groß (höchstens 5 MB).",
                      "The list of receipts is too large (at most 5 MB).")
    if not data.strip():
        raise _refuse("Die Datei ist leer.", "The file is empty.")
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    rows = [[_cell(c) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise _refuse("Die Datei enthält keine Zeilen.", "The file has no rows.")
    header = {}
    for index, name in enumerate(rows[0]):
        key = COLUMNS.get(name.replace(" ", "").casefold())
        if key and key not in header:
            header[key] = index
    missing = [LABELS[k] for k in REQUIRED if k not in header]
    if missing:
        raise _refuse(f"Es fehlen Spalten: {', '.join(missing)}. Erwartet: Datum; "
                      "Empfänger/Einzahler; Zweck; Betrag; Kostenposition; Jahr (Belegnummer "
                      "optional).", f"Columns missing: {', '.join(missing)}.")
    if len(rows) - 1 > MAX_ROWS:
        raise _refuse(f"Höchstens {MAX_ROWS} Belege je Datei.",
                      f"At most {MAX_ROWS} receipts per file.")
    entries, bad = [], []
    for number, row in enumerate(rows[1:], start=2):
        reasons, values = [], {}
        for key, index in header.items():
            values[key] = row[index] if index < len(row) else ""
        for key in REQUIRED:
            if not values[key]:
                reasons.append(f"{LABELS[key]} fehlt")
        parsed: dict[str, Any] = {}
        if values["date"]:
            try:
                parsed["date"] = parse_day(values["date"])
            except ValueError:
                reasons.append(f"„{values['date'][:20]}“ ist kein Datum (TT.MM.JJJJ)")
        if values["amount"]:
            try:
                parsed["amount"] = _amount(values["amount"])
                if parsed["amount"] <= 0:
                    reasons.append("Der Betrag muss größer als 0 sein")
            except WorkflowError:
                reasons.append("Der Betrag darf nicht negativ sein"
                               if values["amount"].lstrip().startswith("-") else
                               f"„{values['amount'][:20]}“ ist kein Betrag (z. B. 1.234,56)")
        if values["year"]:
            year = values["year"].removesuffix(".0")
            if year.isdigit() and len(year) == 4:
                parsed["year"] = int(year)
            else:
                reasons.append(f"„{values['year'][:20]}“ ist kein Haushaltsjahr")
        if values["heading"]:
            parsed["heading"] = frame.resolve(values["heading"])
            if parsed["heading"] is None:
                reasons.append(f"„{values['heading'][:40]}“ ist keine Kostenposition des "
                               "bewilligten Finanzplans")
        if parsed.get("year") and parsed["year"] not in frame.approved:
            reasons.append(f"Für {parsed['year']} wurde nichts bewilligt")
        if parsed.get("date") and parsed.get("year") and parsed["date"].year != parsed["year"]:
            reasons.append(f"Das Datum liegt nicht im Haushaltsjahr {parsed['year']}")
        for key in ("party", "purpose", "number"):
            if len(values.get(key, "")) > 500:
                reasons.append(f"{LABELS[key]}: höchstens 500 Zeichen")
        if reasons:
            bad.append({"row": number, "reasons": reasons})
            continue
        entries.append(Beleg(parsed["year"], parsed["heading"], parsed["date"],
                             " ".join(values["party"].split()),
                             " ".join(values["purpose"].split()), parsed["amount"],
                             " ".join(values.get("number", "").split())[:60]))
    if bad:
        listed = "; ".join(f"Zeile {b['row']}: {', '.join(b['reasons'])}" for b in bad[:20])
        more = f" (und {len(bad) - 20} weitere Zeilen)" if len(bad) > 20 else ""
        raise _refuse(f"Die Belegliste wurde nicht übernommen. {listed}{more}.",
                      f"The list of receipts was not taken: {len(bad)} rows have errors "
                      f"({', '.join(str(b['row']) for b in bad[:20])}).", rows=bad)
    if not entries:
        raise _refuse("Die Datei enthält keine Belege.", "The file has no receipts.")
    return entries


def totals(entries: Iterable[Beleg]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for b in entries:
        out.setdefault(b.year, {}).setdefault(b.heading, 0)
        out[b.year][b.heading] += b.amount_cents
    return out

"""The Belegliste from a file: German Excel CSV (`;`, 1.234,56, 31.12.2026; UTF-8 with or
without BOM, Windows-1252) and XLSX; every bad row named with its reasons, nothing taken then."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import belegliste, final_report
from workflow.db import unit_of_work
from workflow.errors import InvalidInput
from workflow.final_report import Frame, Heading

FRAME = Frame({2021: 50_000_00, 2022: 50_000_00},
              (Heading("personnel", "Personalausgaben", "Staff costs"),
               Heading("fees", "Honorare", "Fees")), {})
HEADER = "Datum;Empfänger/Einzahler;Zweck;Betrag;Kostenposition;Jahr;Belegnummer\r\n"
ROWS = ("31.03.2021;Müller & Söhne;Gehalt März;1.234,56;Personalausgaben;2021;B-1\r\n"
        "15.07.2022;Honorarkraft Weiß;Elterncafé;450,00;fees;2022;\r\n")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_german_excel_csv_in_every_encoding(encoding) -> None:
    entries = belegliste.parse_file((HEADER + ROWS).encode(encoding), FRAME)
    assert [(b.year, b.heading, b.paid_on, b.party, b.amount_cents, b.number)
            for b in entries] == [
        (2021, "personnel", date(2021, 3, 31), "Müller & Söhne", 1_234_56, "B-1"),
        (2022, "fees", date(2022, 7, 15), "Honorarkraft Weiß", 450_00, "")]
    assert belegliste.totals(entries) == {2021: {"personnel": 1_234_56}, 2022: {"fees": 450_00}}


def test_xlsx_with_dates_and_numbers_as_excel_stores_them() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Datum", "Empfänger/Einzahler", "Zweck", "Betrag", "Kostenposition", "Jahr"])
    sheet.append([date(2021, 12, 31), "Stadtwerke", "Strom Dezember", 312.4, "Honorare", 2021])
    sheet.append(["01.02.2022", "Verein", "Miete", "1.000,00", "personnel", "2022"])
    buffer = io.BytesIO()
    book.save(buffer)
    entries = belegliste.parse_file(buffer.getvalue(), FRAME)
    assert [(b.paid_on, b.amount_cents, b.heading) for b in entries] == [
        (date(2021, 12, 31), 312_40, "fees"), (date(2022, 2, 1), 1_000_00, "personnel")]


def test_bad_rows_are_listed_with_their_reasons() -> None:
    text = HEADER + ROWS + (
        "32.01.2021;X;Y;10,00;fees;2021;\r\n"
        "01.01.2021;X;Y;-5,00;Catering;2021;\r\n"
        "01.01.2020;X;;10,00;fees;2021;\r\n"
        "01.06.2023;X;Y;10,00;fees;2023;\r\n")
    with pytest.raises(InvalidInput) as caught:
        belegliste.parse_file(text.encode("utf-8"), FRAME)
    rows = {r["row"]: r["reasons"] for r in caught.value.extra["rows"]}
    assert set(rows) == {4, 5, 6, 7}
    assert "kein Datum" in rows[4][0]
    assert "negativ" in " ".join(rows[5]) and "keine Kostenposition" in " ".join(rows[5])
    assert "Zweck fehlt" in rows[6] and any("Haushaltsjahr 2021" in r for r in rows[6])
    assert any("nichts bewilligt" in r for r in rows[7])
    assert "Zeile 4" in caught.value.de and caught.value.extra["field"] == "file"


def test_missing_columns_and_empty_files_are_refused() -> None:
    with pytest.raises(InvalidInput, match="Kostenposition"):
        belegliste.parse_file(b"Datum;Empfaenger;Zweck;Betrag;Jahr\r\n", FRAME)
    with pytest.raises(InvalidInput, match="leer"):
        belegliste.parse_file(b"  ", FRAME)
    with pytest.raises(InvalidInput, match="XLSX"):
        belegliste.parse_file(b"PK\x03\x04broken", FRAME)


def test_filing_into_the_draft_sets_the_expenses_and_a_bad_file_writes_nothing(engine) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s)
        app = application_in(s, world, "active")
        ref = app.reference
        entries = belegliste.parse_file((HEADER + ROWS).encode(),
                                        final_report.frame_of(s, app))
        final_report.file_belege(s, ref, world.carrier, entries, now=NOW)
        report = final_report.newest(s, app.id)
        content = final_report.content_of(s, report)
        assert content.years[2021].expenses == {"personnel": 1_234_56}
        assert len(content.belege) == 2
    refused(engine, InvalidInput, lambda s: belegliste.parse_file(
        (HEADER + "x;y;z;1;fees;2021;\r\n").encode(), FRAME), "Zeile 2")

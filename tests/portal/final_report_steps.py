"""The carrier's Verwendungsnachweis through its page, as the browser journeys do it: the
Sachbericht with an attachment, the Belegliste imported from a CSV file (German Excel), which
also fills the zahlenmäßiger Nachweis from its sums, then submit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.portal.drivers import Driver

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SACHBERICHT = ("Das Projekt hat im Quartier an drei Standorten gearbeitet: offene Treffs für "
               "Familien, Sprechstunden der Familienlotsinnen und Ferienangebote für Kinder. "
               "Erreicht wurden 140 Familien und 240 Kinder; die Angebote laufen mit den "
               "Kooperationspartnern weiter.")


def approved_years(page: Any) -> dict[int, str]:
    """The budget years of the form and their approved amounts ("85.000,00")."""
    out = {}
    for legend in page.locator("fieldset[id^=nachweis_] legend").all_inner_texts():
        year = re.search(r"\b(20\d\d)\b", legend)
        amount = re.search(r"([0-9.]+,[0-9]{2})", legend)
        out[int(year.group(1))] = amount.group(1)
    return out


def belegliste_csv(spending: dict[int, str]) -> bytes:
    rows = "".join(f"30.06.{year};Lohnbüro Ruhr;Gehalt Projektleitung;{amount};"
                   f"Personalausgaben;{year}\r\n" for year, amount in spending.items()
                   if amount.strip("0,.") )  # nothing spent in a year: no receipt for it
    return ("Datum;Empfänger/Einzahler;Zweck;Betrag;Kostenposition;Jahr\r\n"
            + rows).encode("cp1252")


def submit_final_report(d: Driver, page: Any, tmp_path: Path,
                        spending: dict[int, str] | None = None) -> dict[int, str]:
    """Fill and submit the form the page shows; returns the spending per year it reported
    (default: the approved amounts)."""
    spending = spending or approved_years(page)
    d.fill(page.get_by_label("Sachbericht", exact=True), SACHBERICHT)
    csv = tmp_path / "Belegliste.csv"
    csv.write_bytes(belegliste_csv(spending))
    d.upload(page.get_by_label("Belegliste aus Datei"), [csv])
    d.activate(page.get_by_role("button", name="Belegliste importieren"))
    assert "Die Belegliste wurde übernommen." in page.inner_text("main")
    annex = tmp_path / "Sachbericht.pdf"
    annex.write_bytes(PDF)
    d.upload(page.get_by_label("Anlagen zum Sachbericht"), [annex])
    d.activate(page.get_by_role("button", name="Verwendungsnachweis einreichen"))
    return spending

"""`quartier final-report`: the carrier keeps its draft from a JSON file and imports the
Belegliste from a CSV file; `fire … submit_final_report` takes the draft; staff check it."""

from __future__ import annotations

import json

from tests.factories import application_in, final_report_payload, make_world
from workflow.db import unit_of_work

CARRIER, REVIEWER = "traeger@example.org", "pruefung@example.org"


def test_edit_import_submit_check(quartier, engine, sqlite_url, tmp_path) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s)
        ref = application_in(s, world, "active").reference
    env = {"QUARTIER_DATABASE_URL": sqlite_url}
    draft = tmp_path / "vn.json"
    draft.write_text(json.dumps({"sachbericht": final_report_payload({})["sachbericht"]}),
                     encoding="utf-8")
    quartier("final-report", "edit", ref, "--as", CARRIER, str(draft), **env)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("Datum;Empfänger;Zweck;Betrag;Kostenposition;Jahr\r\n"
                    "31.12.2021;A;B;-1,00;Honorare;2021\r\n".encode("cp1252"))
    refused = quartier("final-report", "import", ref, "--as", CARRIER, str(bad), "--into-draft",
                       ok=False, **env)
    assert refused.exit_code == 1 and "Zeile 2" in refused.output
    good = tmp_path / "belege.csv"
    good.write_bytes(("\ufeffDatum;Empfänger;Zweck;Betrag;Kostenposition;Jahr\r\n"
                      "31.03.2021;Lohnbüro;Gehalt;40.000,00;Personalausgaben;2021\r\n"
                      "31.03.2022;Lohnbüro;Gehalt;45.000,00;Personalausgaben;2022\r\n")
                     .encode("utf-8"))
    out = quartier("final-report", "import", ref, "--as", CARRIER, str(good), "--into-draft",
                   **env)
    assert "2 Belege gelesen und in den Entwurf übernommen." in out.output
    quartier("fire", ref, "submit_final_report", "--as", CARRIER, **env)
    checked = quartier("final-report", "check", ref, "--as", REVIEWER, "--summary", "schlüssig",
                       "--rating", "sachbericht=erfuellt", "--rating", "finanzplan=erfuellt",
                       "--rating", "belegliste=teilweise:ein Beleg unleserlich",
                       "--rating", "zweck=erfuellt", "--lower", "2022=44000:nicht förderfähig",
                       "--json", **env)
    view = json.loads(checked.stdout)
    assert view["check"]["final_grant"] == {"2021": "40000.00", "2022": "44000.00"}
    shown = quartier("final-report", "show", ref, "--as", CARRIER, **env).output
    assert "eingereicht" in shown and "festgesetzte Zuwendung" in shown
    quartier("fire", ref, "close", "--as", REVIEWER, **env)

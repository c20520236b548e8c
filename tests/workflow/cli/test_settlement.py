"""`quartier settlement`: show, settle (hearing on an over-payment), repayments and the list of
claims, from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.workflow.settlement_helpers import fix_final_grant, pay, repayment_account, report
from tests.workflow.test_payments import funded
from workflow import engine as lifecycle
from workflow.db import unit_of_work

REVIEWER, APPROVER, CARRIER = "pruefung@example.org", "zeichnung@example.org", \
    "traeger@example.org"


def test_settle_revoke_partially_repay_and_list(quartier, sqlite_url, engine) -> None:
    with unit_of_work(engine) as s:
        world, ref = funded(s)
        repayment_account(s)
        pay(s, world, ref, 2021, "30000")
        report(s, world, ref, {"2021": "20000", "2022": "0"})
        fix_final_grant(s, ref, {2021: 20_000_00, 2022: 0})
    env = {"QUARTIER_DATABASE_URL": sqlite_url}
    at = ("--now", "2020-11-02T10:00")
    shown = quartier(*at, "settlement", "show", ref, "--as", REVIEWER, **env).stdout
    assert "Verwendungsnachweis eingereicht" in shown and "10.000,00 €" in shown
    no_reason = quartier(*at, "settlement", "settle", ref, "--as", REVIEWER, ok=False, **env)
    assert no_reason.exit_code == 1 and "Gründe des beabsichtigten Teilwiderrufs" in \
        no_reason.output
    settled = json.loads(quartier(*at, "settlement", "settle", ref, "--as", REVIEWER,
                                  "--reason", "Ausgaben nicht belegt", "--json", **env).stdout)
    assert settled["state"] == "revocation_hearing" and settled["overpaid"] == "10000.00"
    with unit_of_work(engine) as s:
        _answer_and_revoke(s, world, ref, datetime(2020, 11, 20, 9, tzinfo=UTC),
                           datetime(2020, 12, 1, 9, tzinfo=UTC))
    later = ("--now", "2021-01-04T10:00")
    out = quartier(*later, "settlement", "repayment", ref, "--as", REVIEWER, "--amount",
                   "5.000,00", "--value-date", "2020-12-31", **env).stdout
    assert "Hauptforderung offen 5.033,86 €" in out and "33,86 €" in out
    refused = quartier(*later, "settlement", "repayment", ref, "--as", CARRIER, "--amount",
                       "1", ok=False, **env)
    assert refused.exit_code == 1 and "nur der Sachbearbeitung" in refused.output
    listed = json.loads(quartier(*later, "settlement", "claims", "--as", REVIEWER, "--on",
                                 "2020-12-31", "--json", **env).stdout)
    assert [c["balance"]["open"] for c in listed] == ["5033.86"]
    table = quartier(*later, "settlement", "claims", "--as", REVIEWER, "--open", **env).stdout
    assert ref in table and "Teilwiderruf" in table
    by_carrier = quartier(*later, "settlement", "claims", "--as", CARRIER, ok=False, **env)
    assert by_carrier.exit_code == 1


def _answer_and_revoke(session, world, ref, answered, revoked) -> None:  # noqa: ANN001
    lifecycle.fire(session, ref, "answer_hearing", world.carrier, reason="Ja", now=answered)
    lifecycle.fire(session, ref, "revoke_partially", world.approver, reason="Teilwiderruf",
                now=revoked)

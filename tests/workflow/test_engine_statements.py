"""How many SQL statements each trigger costs, pinned: readability work must not quietly cost
speed (bench/engine.py measures the time; this measures the round trips)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, event

from tests.factories import NOW, check_final_report, draft_fields, final_report_payload, make_world
from workflow import drafts
from workflow import engine as wf
from workflow.db import unit_of_work

# Statements inside `fire`, per trigger, on each database (SQLite's BEGIN IMMEDIATE included).
# provide_documents and submit_final_report write a second email (the case officer's) and look
# for the uploads they carry (one SELECT each). submit and approve file a notice PDF
# (workflow.bescheide): organisation, module, the document row, and for the approval the
# commitment per budget line, 3 and 4 statements more. Issue 14: submit reads the finance plan
# with the call's budget years (one statement, its notice reuses it); the approval notice reads
# the plan for its eligible expenses (one more). Issue 15: recommend reads the call's
# assessment criteria with the newest Prüfvermerk (one SELECT).
# Issue 16: committing and releasing also keep the application years' committed money (one
# UPDATE for all years: paid <= committed is checked per application and year). The
# Verwendungsnachweis: submit_final_report reads the approved plan, writes the report version,
# its Nachweis lines and Belegliste (SQLite inserts row by row); close reads the newest
# submitted version and its check (two SELECTs). Settled, close reads the years' money and the
# open claim, and opens the Schlusszahlung per year whose final grant is not paid (here both:
# nothing was paid), an UPDATE of `called` and an INSERT of the call each.
EXPECTED = {
    "sqlite": {"submit": 9, "start_review": 4, "request_documents": 6, "provide_documents": 8,
               "recommend": 6, "approve": 18, "start": 5, "submit_final_report": 31, "close": 22},
    "postgresql": {"submit": 8, "start_review": 3, "request_documents": 5,
                   "provide_documents": 7, "recommend": 5, "approve": 16, "start": 4,
                   "submit_final_report": 22, "close": 20},
}

JOURNEY = [
    ("carrier", "submit", None, None),
    ("reviewer", "start_review", None, None),
    ("reviewer", "request_documents", {"documents": ["Satzung"]}, "Satzung fehlt"),
    ("carrier", "provide_documents", {"explanation": "Satzung liegt bei"}, "anbei"),
    ("reviewer", "recommend", {"amounts": {"2021": "55000", "2022": "20000"}}, "ok"),
    ("approver", "approve", None, None),
    ("carrier", "start", {"waiver_of_appeal": True}, None),  # before the start date
    ("carrier", "submit_final_report", final_report_payload({"2021": "50000", "2022": "18000"}),
     "VN"),
    ("reviewer", "close", None, "geprüft"),
]


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_statements_per_trigger(any_engine: Engine) -> None:
    with unit_of_work(any_engine) as s:
        w = make_world(s)
        ref = drafts.create_application(
            s, w.carrier, w.call_id, draft_fields({"2021": "60000", "2022": "20000"}), now=NOW
        ).reference
    counted = {}
    for i, (who, trigger, payload, reason) in enumerate(JOURNEY):
        if trigger == "close":  # staff's check of the Verwendungsnachweis comes first
            with unit_of_work(any_engine) as s:
                check_final_report(s, ref, w.reviewer, now=NOW + timedelta(days=i))
        with unit_of_work(any_engine) as s, counting(any_engine) as statements:
            wf.fire(s, ref, trigger, getattr(w, who), payload=payload, reason=reason,
                    now=NOW + timedelta(days=i))
        counted[trigger] = len(statements)
    assert counted == EXPECTED[any_engine.dialect.name]

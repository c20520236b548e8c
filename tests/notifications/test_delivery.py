"""End to end over a socket: transitions write outbox rows, the worker sends them to aiosmtpd."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from jinja2 import TemplateNotFound
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from notifications import worker
from notifications.outbox import DEAD, PENDING, SENT, OutboxMessage, enqueue, list_dead, requeue
from notifications.render import TEMPLATES
from notifications.worker import (
    DeliveryConfig,
    claim,
    deliver_due,
    deliver_due_async,
    retry_delay,
)
from states import CASE_OFFICER_EMAIL, ESCALATION_EMAIL, REMINDER_EMAIL, STATE_LABELS, State
from tests.factories import (
    NOW,
    application_in,
    check_final_report,
    final_report_payload,
    make_world,
)
from tests.notifications.conftest import SmtpServer
from tests.notifications.handlers import RefusingHandler
from tests.notifications.samples import sample_context
from tests.workflow.settlement_helpers import fix_final_grant, pay, repayment_account, report
from tests.workflow.test_payments import with_bank_account
from workflow import early_start, finality, payments, programme_admin, reports, settlement
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import NotPermitted
from workflow.models import Application, Call, RepaymentClaim

LATER = timedelta(days=1)  # far beyond any retry backoff or lease in these tests


def outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def by_message_id(server: SmtpServer) -> dict[str, EmailMessage]:
    messages = server.messages()
    return {str(m["Message-ID"]): m for m in messages}


def every_carrier_email(engine: Engine, language: str) -> None:
    """Drive applications through every transition that emails a carrier, plus the stop notices."""
    with unit_of_work(engine) as s:
        # Room for two approvals (50k + 50k per year each), not for a third.
        world = make_world(s, years={2021: 120_000_00, 2022: 120_000_00},
                           carrier_language=language)
        reviewer, approver, carrier = world.reviewer, world.approver, world.carrier

        main = application_in(s, world, "submitted")
        early_start.grant_early_start(s, main, reviewer, reason="Ferienprogramm", now=NOW)
        wf.fire(s, main, "start_review", reviewer, now=NOW)
        wf.fire(s, main, "request_documents", reviewer, now=NOW,
                reason="Es fehlen Unterlagen zur Kofinanzierung.",
                payload={"documents": ["Satzung des Trägers", "Finanzierungsplan (überarbeitet)"]})
        wf.fire(s, main, "provide_documents", carrier, now=NOW,
                payload={"explanation": "Satzung liegt bei"})
        wf.fire(s, main, "recommend", reviewer, now=NOW, reason="Förderfähig",
                payload={"amounts": {"2021": "50000", "2022": "50000"}})
        wf.fire(s, main, "return_to_review", approver, now=NOW,  # told to the case officer
                reason="Bitte die Kofinanzierung 2022 belegen.")
        wf.fire(s, main, "recommend", reviewer, now=NOW, reason="Kofinanzierung belegt",
                payload={"amounts": {"2021": "50000", "2022": "50000"}})
        wf.fire(s, main, "approve", approver, now=NOW)
        finality.set_notification_date(s, main, reviewer, notified_on=NOW.date(), now=NOW,
                                       reason="Zustellung per E-Mail am selben Tag")
        finality.waive_appeal(s, main, carrier, now=NOW)
        wf.fire(s, main, "start", carrier, now=NOW, payload={"waiver_of_appeal": True})
        with_bank_account(s, world)  # a call of funds, certified, paid by a second person
        funds = payments.request_call(s, main.reference, carrier, year=2021, amount="30000",
                                      needed_within_two_months=True, now=NOW)
        payments.check_call(s, funds.id, reviewer, now=NOW)
        payments.order_payment(s, funds.id, approver, now=NOW)
        spending = final_report_payload({"2021": "40000", "2022": "50000"})
        wf.fire(s, main, "submit_final_report", carrier, now=NOW, payload=spending)
        wf.fire(s, main, "request_report_changes", reviewer, now=NOW,
                reason="Belege für Honorarkräfte fehlen.")
        wf.fire(s, main, "submit_final_report", carrier, now=NOW, payload=spending)
        check_final_report(s, main, reviewer, now=NOW)
        settlement.settle(s, main.reference, reviewer, now=NOW)  # paid within it: closes

        # Paid beyond the final grant: Teilwiderruf after a hearing, the claim repaid in full.
        overpaid = application_in(s, world, "active")
        repayment_account(s)
        pay(s, world, overpaid.reference, 2021, "30000")
        report(s, world, overpaid.reference, {"2021": "20000", "2022": "0"})
        fix_final_grant(s, overpaid.reference, {2021: 20_000_00, 2022: 0}, world)
        settlement.settle(s, overpaid.reference, reviewer, now=NOW,
                          reason="Ausgaben 2021 nur zum Teil nachgewiesen.")
        wf.fire(s, overpaid, "answer_hearing", carrier, now=NOW, reason="Einverstanden.")
        wf.fire(s, overpaid, "revoke_partially", approver, now=NOW, reason="Teilwiderruf")
        claim = s.exec(select(RepaymentClaim).where(
            RepaymentClaim.application_id == overpaid.id)).one()
        owed = settlement.claim_balance(s, claim, NOW.date()).open_cents
        settlement.record_repayment(s, overpaid.reference, reviewer,
                                    amount=f"{owed // 100},{owed % 100:02d}",
                                    value_date=NOW.date(), now=NOW)

        rejected = application_in(s, world, "submitted")
        wf.fire(s, rejected, "reject", reviewer, now=NOW, reason="Nicht förderfähig: nicht NRW.")
        withdrawn = application_in(s, world, "submitted")
        wf.fire(s, withdrawn, "withdraw", carrier, now=NOW, reason="Größere Änderungen nötig.")

        revoked = application_in(s, world, "active")
        later = datetime(2022, 3, 15, 9, tzinfo=UTC)  # interim reports follow the budget year
        reports.submit_interim_report(s, revoked, carrier, narrative="Elterncafé läuft.",
                                      spending={"2021": "20000"}, now=later)
        reports.request_interim_changes(s, revoked, reviewer, reason="Belege fehlen.", now=later)
        reports.submit_interim_report(s, revoked, carrier, narrative="Ergänzt.",
                                      spending={"2021": "20000"}, now=later)
        reports.accept_interim_report(s, revoked, reviewer, now=later)
        wf.fire(s, revoked, "open_hearing", reviewer, now=NOW, reason="Zweckwidrige Verwendung.")
        wf.fire(s, revoked, "answer_hearing", carrier, now=NOW, reason="Stellungnahme folgt.")
        wf.fire(s, revoked, "revoke", approver, now=NOW, reason="Zweckwidrige Verwendung.",
                payload={"repayment": "1.234,50"})

        # Main and revoked: one approval's money is back. Two more fill it; a third waits.
        application_in(s, world, "approved")
        waiting = application_in(s, world, "recommended")
        wf.fire(s, waiting, "approve", approver, now=NOW)
        assert waiting.state == State.waitlisted
        application_in(s, world, "draft")
        call = s.get(Call, world.call_id)
        programme_admin.declare_funding_stop(s, call, "Haushaltssperre des Landes", world.admin,
                                             now=NOW)
        programme_admin.lift_funding_stop(s, call, world.admin, now=NOW)
        programme_admin.change_budget(s, call, 2021, "Landesmittel", 100_000_00, world.admin,
                                      "Aufstockung", now=NOW)
        programme_admin.change_budget(s, call, 2022, "Landesmittel", 100_000_00, world.admin,
                                      "Aufstockung", now=NOW)
        assert waiting.state == State.recommended


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_carrier_email_arrives_complete(engine: Engine, smtp_server: SmtpServer,
                                              mail_settings: DeliveryConfig, language: str) -> None:
    every_carrier_email(engine, language)
    rows = outbox(engine)
    expected = set(TEMPLATES) - {REMINDER_EMAIL, ESCALATION_EMAIL}
    assert {r.template for r in rows} == expected

    report = deliver_due(engine, mail_settings)
    assert (report.sent, report.retrying, report.dead) == (len(rows), 0, 0)

    received = by_message_id(smtp_server)
    assert len(received) == len(rows) == len(smtp_server.raw())
    greeting = "Guten Tag Jürgen Weiß," if language == "de" else "Dear Jürgen Weiß,"
    for row in outbox(engine):
        assert row.status == SENT and row.attempts == 1
        message = received[row.message_id]
        if row.template in (CASE_OFFICER_EMAIL, "case_returned"):  # told to the case officer
            assert message["To"] == "pruefung@example.org" == row.recipient
            assert message["Content-Language"] == "de"
            assert message.get_body(("plain",)).get_content().startswith("Guten Tag Sabine")
            continue
        assert message["To"] == "traeger@example.org" == row.recipient
        assert message["Subject"] == row.subject
        assert row.context["reference"] in message["Subject"]
        assert message["Content-Language"] == language
        # A transition that issues a notice (receipt, approval, rejection, revocation) attaches
        # its PDF: the text and HTML parts then sit inside multipart/mixed.
        attached = [(a.get_filename(), a.get_content_type()) for a in message.iter_attachments()]
        assert attached == [(a["filename"], a["content_type"]) for a in row.attachments]
        assert message.get_content_type() == (
            "multipart/mixed" if row.attachments else "multipart/alternative")
        # SMTP carries CRLF line ends; the content is otherwise byte for byte the outbox row's.
        text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        html = message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")
        assert text == row.body_text and html == row.body_html
        assert text.startswith(greeting)  # umlauts and ß intact through SMTP
        assert "Zusammen im Quartier – Kinder stärken – Zukunft sichern" in text
        assert "Stadtteilmütter" in html
        assert row.context["reference"] in text and row.context["reference"] in html
        state_label = STATE_LABELS[State(row.context["state"])].in_language(language)
        assert state_label in text
    by_template = {r.template: received[r.message_id] for r in outbox(engine)}
    approval = by_template["approval"].get_body(preferencelist=("plain",)).get_content()
    # Issue 10: an English-preferring carrier reads English money.
    amounts = ("50.000,00 €", "100.000,00 €") if language == "de" else ("€50,000.00", "€100,000.00")
    assert all(amount in approval for amount in amounts)
    documents = by_template["documents_requested"].get_body(("plain",)).get_content()
    assert "Satzung des Trägers" in documents


def test_rolled_back_transition_leaves_no_outbox_row_and_sends_nothing(
        any_engine: Engine, smtp_server: SmtpServer, mail_settings: DeliveryConfig) -> None:
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        app_id = application_in(s, world, "draft").id

    class Abort(Exception):
        pass

    with pytest.raises(Abort), unit_of_work(any_engine) as s:
        wf.fire(s, app_id, "submit", world.carrier, now=NOW)
        assert s.exec(select(func.count()).select_from(OutboxMessage)).one() == 1
        raise Abort
    # A refused transition writes nothing either.
    with pytest.raises(NotPermitted), unit_of_work(any_engine) as s:
        wf.fire(s, app_id, "submit", world.reviewer, now=NOW)
    # A template error fails the transition's own transaction: the state does not change.
    with pytest.raises(TemplateNotFound), unit_of_work(any_engine) as s:
        wf.fire(s, app_id, "submit", world.carrier, now=NOW)
        enqueue(s.connection(), template="no_such_email", recipient="x@example.org", language="de",
                context={})

    assert outbox(any_engine) == []
    with Session(any_engine) as s:
        assert s.get(Application, app_id).state == State.draft
    assert deliver_due(any_engine, mail_settings).claimed == 0
    assert smtp_server.raw() == []


def test_server_down_transitions_succeed_and_everything_arrives_once_later(
        any_engine: Engine, smtp_server: SmtpServer, mail_settings: DeliveryConfig) -> None:
    smtp_server.stop()
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        for _ in range(4):
            application_in(s, world, "active")  # receipt, approval, project start each
    rows = outbox(any_engine)
    assert len(rows) == 12

    start = NOW + LATER * 365 * 10  # a fixed clock well after the rows' creation
    for hour in range(3):  # hours of outage: each pass fails and backs off
        report = deliver_due(any_engine, mail_settings, now=start + timedelta(hours=hour))
        assert report.sent == 0 and report.retrying == report.claimed
    # A pass gives up after a batch the server did not take; the rest waits untouched.
    assert all(r.status == PENDING and r.lease_until is None for r in outbox(any_engine))
    assert all(bool(r.last_error) == (r.attempts > 0) for r in outbox(any_engine))
    assert max(r.attempts for r in outbox(any_engine)) == 3

    smtp_server.start()
    report = deliver_due(any_engine, mail_settings, now=start + LATER)
    assert report.sent == 12
    assert deliver_due(any_engine, mail_settings, now=start + 2 * LATER).claimed == 0
    ids = smtp_server.message_ids()
    assert set(ids) == {r.message_id for r in rows}
    assert set(ids.values()) == {1}
    assert all(r.status == SENT and r.last_error is None for r in outbox(any_engine))


def test_retries_follow_the_schedule_then_die_and_can_be_requeued(
        any_engine: Engine, smtp_server: SmtpServer, mail_settings: DeliveryConfig) -> None:
    smtp_server.stop()
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        application_in(s, world, "submitted")
    [row] = outbox(any_engine)
    moment = NOW + LATER * 3650
    for attempt in range(1, mail_settings.max_attempts + 1):
        deliver_due(any_engine, mail_settings, now=moment)
        [row] = outbox(any_engine)
        assert row.attempts == attempt
        if attempt < mail_settings.max_attempts:
            wait = row.next_attempt_at - moment
            delay = mail_settings.retry_schedule[attempt - 1]  # 30s, 1m, 2m, 4m
            assert timedelta(seconds=delay) <= wait <= timedelta(seconds=delay * 1.1)
            # Not due yet: a pass before the retry's time leaves it alone.
            assert deliver_due(any_engine, mail_settings, now=moment + wait / 2).claimed == 0
            moment = row.next_attempt_at
    assert row.status == DEAD
    assert deliver_due(any_engine, mail_settings, now=moment + LATER).claimed == 0
    with Session(any_engine) as s:
        assert [m.id for m in list_dead(s)] == [row.id]

    smtp_server.start()
    with unit_of_work(any_engine) as s:
        requeue(s, row.id, now=moment)
    assert deliver_due(any_engine, mail_settings, now=moment).sent == 1
    assert smtp_server.message_ids() == Counter({row.message_id: 1})


def test_retry_delays_follow_the_schedule_with_jitter_upwards_only() -> None:
    import random

    rng = random.Random(7)
    schedule = (60.0, 300.0, 3600.0)
    for attempts, delay in enumerate(schedule, 1):
        delays = {retry_delay(attempts, schedule, rng) for _ in range(20)}
        assert all(timedelta(seconds=delay) <= d <= timedelta(seconds=delay * 1.1)
                   for d in delays)
    assert retry_delay(len(schedule) + 1, schedule, rng) is None  # exhausted: dead


def test_abandoned_claims_come_back_after_the_lease(any_engine: Engine, smtp_server: SmtpServer,
                                                   mail_settings: DeliveryConfig) -> None:
    with unit_of_work(any_engine) as s:
        world = make_world(s)
        application_in(s, world, "active")
    moment = NOW + LATER * 3650
    # A worker claims two rows, then dies.
    abandoned = claim(any_engine, moment, 2, mail_settings.lease_seconds)
    assert len(abandoned) == 2
    report = deliver_due(any_engine, mail_settings, now=moment)
    assert report.sent == 1  # only the unclaimed row
    after_lease = moment + timedelta(seconds=mail_settings.lease_seconds + 1)
    assert deliver_due(any_engine, mail_settings, now=after_lease).sent == 2
    assert set(smtp_server.message_ids().values()) == {1}
    assert {r.attempts for r in outbox(any_engine) if r.id in {a.id for a in abandoned}} == {2}


def test_worker_killed_mid_batch(engine: Engine, sqlite_url: str, smtp_server: SmtpServer,
                                 mail_settings: DeliveryConfig, tmp_path: Path) -> None:
    """A real `quartier mail deliver` process killed with SIGKILL while sending a batch."""
    with Session(engine) as s:
        for i in range(12):
            enqueue(s.connection(), template="approval", recipient=f"traeger{i}@example.org",
                    language="de", context=sample_context("approval"))
        s.commit()
    smtp_server.set_delay(0.2)  # a slow server, so the kill lands in the middle of the batch
    env = {**os.environ, "QUARTIER_DATABASE_URL": sqlite_url,
           "QUARTIER_SMTP_PORT": str(smtp_server.port), "QUARTIER_MAIL_BATCH_SIZE": "12",
           "QUARTIER_MAIL_LEASE_SECONDS": "600"}
    worker = subprocess.Popen([sys.executable, "-c", "from workflow.cli import main; main()",
                               "mail", "deliver"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(smtp_server.raw()) < 3:
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker sent nothing"
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    smtp_server.set_delay(0)

    rows = outbox(engine)
    sent_before = {r.id for r in rows if r.status == SENT}
    in_flight = {r.id for r in rows if r.status == PENDING and r.lease_until is not None}
    assert sent_before and in_flight and sent_before | in_flight == {r.id for r in rows}

    # Before the lease runs out nobody touches the dead worker's rows...
    assert deliver_due(engine, mail_settings).claimed == 0
    # ...afterwards they are delivered.
    later = max(r.lease_until for r in rows if r.lease_until) + timedelta(seconds=1)
    assert deliver_due(engine, mail_settings, now=later).sent == len(in_flight)

    ids = smtp_server.message_ids()
    message_ids = {r.id: r.message_id for r in outbox(engine)}
    assert set(ids) == set(message_ids.values())
    twice = {i for i, m in message_ids.items() if ids[m] > 1}
    assert twice <= in_flight and max(ids.values()) <= 2
    assert all(r.status == SENT for r in outbox(engine))


def test_funding_stop_lift_tells_waiting_carriers_once(engine: Engine) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s, years={2021: 60_000_00, 2022: 60_000_00})
        application_in(s, world, "approved")
        waiting = application_in(s, world, "recommended")
        wf.fire(s, waiting, "approve", world.approver, now=NOW)
        call = s.get(Call, world.call_id)
        programme_admin.declare_funding_stop(s, call, "Haushaltssperre", world.admin, now=NOW)
        programme_admin.lift_funding_stop(s, call, world.admin, now=NOW)
    lifted = [r for r in outbox(engine) if r.template == "funding_stop_lifted"]
    assert [(r.recipient, r.context["state"]) for r in lifted] == [
        ("traeger@example.org", "waitlisted")]
    assert "Warteliste" in lifted[0].body_text


def fill(engine: Engine, recipients: list[str]) -> list[int]:
    """One approval email per recipient; their outbox ids."""
    with Session(engine) as s:
        ids = [enqueue(s.connection(), template="approval", recipient=r, language="de",
                       context=sample_context("approval"), now=NOW) for r in recipients]
        s.commit()
    return ids


def test_claim_takes_at_most_limit_due_rows_in_id_order(any_engine: Engine) -> None:
    ids = fill(any_engine, [f"traeger{i}@example.org" for i in range(7)])
    moment = NOW + LATER
    first = claim(any_engine, moment, 2, 120)
    assert [r.id for r in first] == ids[:2] and all(r.attempts == 1 for r in first)
    assert first[0].message_id == outbox(any_engine)[0].message_id
    # Leased rows are not due; `after_id` skips what a pass already took.
    assert [r.id for r in claim(any_engine, moment, 2, 120, after_id=ids[3])] == ids[4:6]
    assert [r.id for r in claim(any_engine, moment, 10, 120)] == ids[2:4] + ids[6:]
    assert claim(any_engine, moment, 10, 120) == []
    assert [r.attempts for r in outbox(any_engine)] == [1] * 7


def test_a_pass_takes_each_row_once_even_when_it_is_due_again(
        any_engine: Engine, tmp_path: Path, mail_settings: DeliveryConfig) -> None:
    handler = RefusingHandler(tmp_path / "refusing", "spaeter", "451 4.3.0 try again later")
    controller = Controller(handler, hostname="127.0.0.1", port=mail_settings.smtp.port)
    controller.start()
    try:
        ids = fill(any_engine, ["spaeter@example.org"]
                   + [f"traeger{i}@example.org" for i in range(6)])
        ticks = iter(range(1, 10_000))

        def clock() -> datetime:  # a day passes at every look: the backoff is over at once
            return NOW + LATER * next(ticks)

        report = asyncio.run(deliver_due_async(any_engine, mail_settings, batch_size=2,
                                               clock=clock))
        assert (report.claimed, report.sent, report.retrying) == (7, 6, 1)
        [refused, *rest] = outbox(any_engine)
        assert refused.id == ids[0] and refused.attempts == 1 and refused.status == PENDING
        assert all(r.status == SENT and r.attempts == 1 for r in rest)
    finally:
        controller.stop()


def test_marks_failing_stop_the_pass_and_unmarked_rows_go_out_after_the_lease(
        any_engine: Engine, smtp_server: SmtpServer, mail_settings: DeliveryConfig,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fill(any_engine, [f"traeger{i}@example.org" for i in range(30)])
    smtp_server.set_delay(0.02)  # 30 messages take longer than one marking window

    def database_away(*args: Any) -> None:
        raise OperationalError("UPDATE", {}, Exception("the database is away"))

    monkeypatch.setattr(worker, "mark_sent", database_away)
    moment = NOW + LATER
    with pytest.raises(OperationalError):
        deliver_due(any_engine, mail_settings, now=moment)
    sent_first = len(smtp_server.raw())
    assert 0 < sent_first < 30  # it stopped soon after the first mark failed
    rows = outbox(any_engine)
    assert all(r.status == PENDING for r in rows)
    leased = [r for r in rows if r.lease_until is not None]
    assert len(leased) >= sent_first  # nobody else takes them before their lease runs out

    monkeypatch.undo()
    smtp_server.set_delay(0)
    after_lease = moment + timedelta(seconds=mail_settings.lease_seconds + 1)
    assert deliver_due(any_engine, mail_settings, now=after_lease).sent == 30
    ids = smtp_server.message_ids()
    assert set(ids) == {r.message_id for r in outbox(any_engine)}
    # Only what the failed pass had sent (and could not mark) arrived twice.
    assert sum(ids.values()) == 30 + sent_first and max(ids.values()) == 2
    assert all(r.status == SENT for r in outbox(any_engine))

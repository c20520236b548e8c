"""The long-running worker: delivers what transitions write, runs periodic jobs, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from notifications.worker import DeliveryConfig, DeliveryReport, Periodic, delivery_job, run_worker
from tests.factories import application_in, make_world
from tests.notifications.conftest import SmtpServer
from workflow.db import unit_of_work


def test_run_worker_delivers_and_runs_periodic_jobs(engine: Engine, smtp_server: SmtpServer,
                                                    mail_settings: DeliveryConfig) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s)
        application_in(s, world, "active")
    stop = threading.Event()
    calls: list[tuple[Engine, datetime]] = []
    delivered: list[DeliveryReport] = []

    def reminder_pass(engine_: Engine, now: datetime) -> None:
        calls.append((engine_, now))

    def broken_job(engine_: Engine, now: datetime) -> None:
        raise RuntimeError("a failing job must not stop the mail")

    def on_report(report: DeliveryReport) -> None:
        delivered.append(report)
        if sum(r.sent for r in delivered) >= 3:
            stop.set()

    jobs = [Periodic(reminder_pass, every_seconds=3600), Periodic(broken_job),
            delivery_job(mail_settings, on_report)]
    thread = threading.Thread(target=run_worker, args=(engine, jobs), kwargs={
        "stop": stop, "poll_seconds": 0.05})
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert sum(r.sent for r in delivered) == 3
    assert len(smtp_server.raw()) == 3
    assert len(calls) == 1 and calls[0][0] is engine  # hourly: once in this short run


def test_quartier_worker_process_delivers_and_stops_on_sigterm(
        engine: Engine, sqlite_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    env = {**os.environ, "QUARTIER_DATABASE_URL": sqlite_url,
           "QUARTIER_SMTP_PORT": str(smtp_server.port), "QUARTIER_MAIL_POLL_SECONDS": "0.1"}
    worker = subprocess.Popen([sys.executable, "-c", "from workflow.cli import main; main()",
                               "worker"], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # A transition committed while the worker runs is delivered without further ado.
        with unit_of_work(engine) as s:
            world = make_world(s)
            application_in(s, world, "submitted")
        deadline = time.monotonic() + 60
        while not smtp_server.raw():
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker delivered nothing"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "Worker beendet." in out
    [message] = smtp_server.messages()
    assert "Eingangsbestätigung" in message["Subject"]

"""workflow/cli/logqueue.py: the server's log lines are written by a listener thread, formatted
there, complete and in order."""

from __future__ import annotations

import logging
import threading

import pytest

from workflow.cli.logqueue import queued_stderr


def test_lines_are_written_by_the_listener_in_order(capfd: pytest.CaptureFixture[str]) -> None:
    handler = queued_stderr()
    logger = logging.getLogger("quartier.test-logqueue")
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.INFO
    writers: set[str] = set()

    class Seen(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            writers.add(threading.current_thread().name)
            return True

    handler.listener.handlers[0].addFilter(Seen())
    try:
        for i in range(50):
            logger.info("GET /antraege %s 200 request_id=%s", i, f"id-{i}")
        logger.warning("beware %s", "this")
    finally:
        handler.stop()  # drains the queue; the exit hook then does nothing
        logger.removeHandler(handler)
    lines = capfd.readouterr().err.splitlines()
    assert lines[:2] == ["INFO:     GET /antraege 0 200 request_id=id-0",
                         "INFO:     GET /antraege 1 200 request_id=id-1"]
    assert len(lines) == 51 and lines[-1] == "WARNING:  beware this"
    assert threading.current_thread().name not in writers and len(writers) == 1

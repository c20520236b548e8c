"""The server's log lines leave the request path: handlers put each record on a queue and one
thread per process formats and writes it (the standard library's QueueHandler and
QueueListener, as its logging cookbook advises for handlers that may block). A request then
never waits for stderr, and its thread does not format the line."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys


class _Unformatted(logging.handlers.QueueHandler):
    """Puts the record itself on the queue: the listener's handler formats it, in its thread.
    (The records stay in this process, so nothing needs to be pickled or pre-formatted.)"""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def _stop(listener: logging.handlers.QueueListener) -> None:
    """Drains and ends the listener, once (Python 3.11's stop() fails when called twice)."""
    if listener._thread is not None:  # noqa: SLF001 - no public "is running"
        listener.stop()


def queued_stderr(fmt: str = "%(levelprefix)s %(message)s") -> logging.Handler:
    """A handler for dictConfig ("()": this function): uvicorn's formatter on stderr, written
    by a listener thread; the thread drains the queue when the process exits."""
    from uvicorn.logging import DefaultFormatter

    target = logging.StreamHandler(sys.stderr)
    target.setFormatter(DefaultFormatter(fmt, use_colors=None))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, target, respect_handler_level=False)
    listener.start()
    atexit.register(_stop, listener)
    handler = _Unformatted(records)
    handler.stop = lambda: _stop(listener)  # type: ignore[attr-defined]  (drains the queue)
    handler.listener = listener  # type: ignore[attr-defined]
    return handler

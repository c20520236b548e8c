"""Worker for the concurrency tests: approve applications at the same moment, from threads."""

from __future__ import annotations

import threading
from datetime import datetime

from tests.factories import NOW
from workflow import engine as wf
from workflow.db import make_engine, unit_of_work
from workflow.errors import InsufficientFunds, WorkflowError
from workflow.rows import Actor


def approve_all(url: str, references: list[str], approver: Actor,
                barrier: threading.Barrier | None = None,
                now: datetime = NOW) -> dict[str, str]:
    """Approve each reference in its own thread and connection, all at the moment `now` of the
    test world (its budget years must not be over then); returns reference -> outcome."""
    db = make_engine(url, pool_size=len(references) + 2, max_overflow=0) if url.startswith(
        "postgresql") else make_engine(url)
    outcomes: dict[str, str] = {}
    start = barrier or threading.Barrier(len(references))

    def one(ref: str) -> None:
        start.wait()
        try:
            with unit_of_work(db) as session:
                outcomes[ref] = wf.fire(session, ref, "approve", approver, now=now).to_state
        except InsufficientFunds:
            outcomes[ref] = "refused"
        except WorkflowError as other:
            outcomes[ref] = f"error: {other.de}"

    threads = [threading.Thread(target=one, args=(ref,)) for ref in references]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    return outcomes


def process_main(url: str, references: list[str], approver: Actor, queue) -> None:  # noqa: ANN001
    queue.put(approve_all(url, references, approver))

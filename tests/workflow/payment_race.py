"""Worker for the concurrency tests of calls of funds: each thread calls 7.000 € of 2021 at the
same moment, then (if the call went through) has it certified and its payment ordered."""

from __future__ import annotations

import threading

from tests.factories import NOW
from workflow import payments
from workflow.db import make_engine, unit_of_work
from workflow.errors import InsufficientFunds, WorkflowError


def call_check_order_all(url: str, reference: str, world, keys: list[int]) -> dict[int, str]:  # noqa: ANN001
    """One thread and connection per key; key -> "paid", "refused" or the error."""
    db = make_engine(url, pool_size=len(keys) + 2, max_overflow=0) if url.startswith(
        "postgresql") else make_engine(url)
    outcomes: dict[int, str] = {}
    start = threading.Barrier(len(keys))

    def one(key: int) -> None:
        start.wait()
        try:
            with unit_of_work(db) as session:
                call_id = payments.request_call(session, reference, world.carrier, year=2021,
                                                amount="7000", needed_within_two_months=True,
                                                now=NOW).id
            with unit_of_work(db) as session:
                payments.check_call(session, call_id, world.reviewer, now=NOW)
            with unit_of_work(db) as session:
                payments.order_payment(session, call_id, world.approver, now=NOW)
            outcomes[key] = "paid"
        except InsufficientFunds:
            outcomes[key] = "refused"
        except WorkflowError as other:
            outcomes[key] = f"error: {other.de}"

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    return outcomes


def process_main(url: str, reference: str, world, keys: list[int], queue) -> None:  # noqa: ANN001
    queue.put(call_check_order_all(url, reference, world, keys))

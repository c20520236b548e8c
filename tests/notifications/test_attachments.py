"""Attachments by reference: the outbox row names a blob of the document store, the sender reads
it from there when it builds the message; a blob that cannot be read holds back only its row."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from notifications.outbox import PENDING, SENT, enqueue
from notifications.worker import deliver_due
from tests.notifications.samples import sample_context
from tests.notifications.test_delivery import outbox
from workflow.storage import FileStore

PDF = b"%PDF-1.7\n% Zuwendungsbescheid \xc3\xa4\xc3\xb6\xc3\xbc\n%%EOF\n"


def test_the_sender_attaches_the_stored_file_and_a_missing_one_waits(
        any_engine, smtp_server, mail_settings, tmp_path):
    store = FileStore(tmp_path / "documents")
    blob = store.put([PDF])
    missing = "0" * 64
    with Session(any_engine) as s:
        conn = s.connection()
        for recipient, sha256 in (("mit@example.org", blob.sha256),
                                  ("fehlt@example.org", missing)):
            enqueue(conn, template="approval", recipient=recipient, language="de",
                    context=sample_context("approval"),
                    attachments=[{"sha256": sha256, "filename": "Zuwendungsbescheid ZiQ.pdf",
                                  "content_type": "application/pdf"}])
        enqueue(conn, template="approval", recipient="ohne@example.org", language="de",
                context=sample_context("approval"))
        s.commit()

    report = deliver_due(any_engine, replace(mail_settings, open_attachment=store.open))
    assert (report.sent, report.retrying) == (2, 1)

    received = {str(m["To"]): m for m in smtp_server.messages()}
    assert set(received) == {"mit@example.org", "ohne@example.org"}
    with_pdf = received["mit@example.org"]
    assert with_pdf.get_content_type() == "multipart/mixed"
    [part] = list(with_pdf.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == "Zuwendungsbescheid ZiQ.pdf"
    assert part.get_content() == PDF
    assert with_pdf.get_body(("plain",)) is not None  # the text still comes first
    assert received["ohne@example.org"].get_content_type() == "multipart/alternative"

    rows = {r.recipient: r for r in outbox(any_engine)}
    assert rows["mit@example.org"].status == SENT
    waiting = rows["fehlt@example.org"]
    assert waiting.status == PENDING and waiting.attempts == 1
    assert missing in (waiting.last_error or "")

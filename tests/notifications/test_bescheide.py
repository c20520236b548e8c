"""The written notices: rendered as PDF in the firing's transaction, filed in the case file and
attached (by reference to the store) to the carrier's email, which a real SMTP server receives."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from notifications.outbox import OutboxMessage
from notifications.worker import DeliveryConfig, deliver_due
from tests.factories import NOW, application_in, make_world
from tests.notifications.conftest import SmtpServer
from workflow import bescheide
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.documents import case_file
from workflow.models import Application, Deadline, Document, Programme, TransitionRecord
from workflow.storage import FileStore

# 50 000 € a year on two sources with 30 000 € each: the commitment takes 30 000 € from the
# Landesmittel (first by priority) and 20 000 € from the ESF in each year.
YEARS = {2021: 60_000_00, 2022: 60_000_00}


@pytest.fixture
def store(tmp_path: Path):
    store = FileStore(tmp_path / "documents")
    with bescheide.using_store(store):
        yield store


def delivered(engine: Engine, config: DeliveryConfig, store: FileStore,
              server: SmtpServer) -> dict[str, EmailMessage]:
    report = deliver_due(engine, replace(config, open_attachment=store.open),
                         now=NOW + timedelta(days=30))
    assert report.errors == []
    return {str(m["X-Quartier-Template"]): m for m in server.messages()}


def attached_pdf(message: EmailMessage) -> tuple[str, bytes]:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    assert parts[0].get_content_type() == "application/pdf"
    return parts[0].get_filename(), parts[0].get_content()


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join((page.extract_text() or "") for page in reader.pages)


def filed(engine: Engine, reference: str, trigger: str) -> Document:
    """The one notice filed with the firing of `trigger`."""
    with Session(engine) as s:
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        record = s.exec(select(TransitionRecord).where(
            TransitionRecord.application_id == app.id, TransitionRecord.trigger == trigger)).one()
        documents = [d for d in case_file(s, app.id) if d.transition_id == record.id]
    assert len(documents) == 1
    return documents[0]


def test_approval_email_carries_the_zuwendungsbescheid_that_is_in_the_case_file(
        any_engine, smtp_server, mail_settings, store):
    with unit_of_work(any_engine) as s:
        world = make_world(s, years=YEARS, sources=("Landesmittel", "ESF"))
        app = application_in(s, world, "approved")
        reference = app.reference
    messages = delivered(any_engine, mail_settings, store, smtp_server)

    filename, pdf = attached_pdf(messages["approval"])
    assert filename == f"Zuwendungsbescheid {reference}.pdf"
    body = messages["approval"].get_body(("plain",)).get_content()
    assert f"Im Anhang: Zuwendungsbescheid {reference}.pdf" in body
    # Tagged PDF/UA: a structure tree, the document language, the title shown as title.
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/Lang"] == "de"
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    text = " ".join(text_of(pdf).split())
    assert reference in text
    assert "Fehlbedarfsfinanzierung" in text and "nicht rückzahlbarer Zuschuss" in text
    # Per budget year and funding source, as the ledger split the commitment.
    assert text.count("2021 Landesmittel 30.000,00 €") == 1
    assert text.count("2021 ESF 20.000,00 €") == 1
    assert text.count("2022 Landesmittel 30.000,00 €") == 1
    assert text.count("2022 ESF 20.000,00 €") == 1
    assert "100.000,00 €" in text
    assert "ANBest-P" in text and "Europäischen Sozialfonds" in text
    # The reporting deadlines the approval opened, each with its due date.
    with Session(any_engine) as s:
        app_id = s.exec(select(Application.id).where(Application.reference == reference)).one()
        dues = s.exec(select(Deadline).where(Deadline.application_id == app_id)).all()
    assert {d.kind for d in dues} >= {"interim_report", "final_report"}
    for due in dues:
        assert due.due_date.strftime("%d.%m.%Y") in text
    assert "Zwischennachweis" in text and "Verwendungsnachweis" in text
    assert "Rechtsbehelfsbelehrung" in text and "innerhalb eines Monats" in text
    assert "Verwaltungsgericht" in text
    assert "Helga Böhm" in text and "Sabine Prüfer" in text  # signer and four-eyes reviewer
    # The eligible expenses: the approved plan by cost heading (tests.factories.balanced_plan).
    assert "Zuwendungsfähige Ausgaben nach Ausgabenposition (Finanzierungsplan) 2021" in text
    assert text.count("Personalausgaben 40.400,00 €") == 2  # 2021 and 2022
    assert text.count("Honorare 10.100,00 €") == 2 and "Eigenmittel 500,00 €" in text

    document = filed(any_engine, reference, "approve")
    assert document.purpose == "notice" and document.content_type == "application/pdf"
    assert document.sha256 == hashlib.sha256(pdf).hexdigest() and document.size_bytes == len(pdf)
    with store.open(document.sha256) as stream:
        assert stream.read() == pdf
    # The application itself was filed on submission, and mailed with the receipt.
    application_pdf = filed(any_engine, reference, "submit")
    assert application_pdf.purpose == "application"
    name, receipt_pdf = attached_pdf(messages["receipt_confirmation"])
    assert name == f"Antrag {reference}.pdf"
    assert application_pdf.sha256 == hashlib.sha256(receipt_pdf).hexdigest()
    assert "Beantragte Zuwendung" in text_of(receipt_pdf)
    receipt = " ".join(text_of(receipt_pdf).split())
    assert "Kosten- und Finanzierungsplan 2022" in receipt
    assert "Ausgaben insgesamt 50.500,00 €" in receipt


def test_the_notice_names_the_calls_financing_kind(engine, store):
    with unit_of_work(engine) as s:
        world = make_world(s, years=YEARS, financing={"financing_kind": "share",
                                                      "grant_share_bp": 9_950})
        reference = application_in(s, world, "approved").reference
    with store.open(filed(engine, reference, "approve").sha256) as stream:
        text = " ".join(text_of(stream.read()).split())
    assert "Anteilfinanzierung" in text and "Fehlbedarfsfinanzierung" not in text


def test_the_outbox_names_the_attachment_and_holds_no_copy(any_engine, store):
    with unit_of_work(any_engine) as s:
        world = make_world(s, years=YEARS)
        app = application_in(s, world, "approved")
        reference = app.reference
    document = filed(any_engine, reference, "approve")
    with Session(any_engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.template == "approval")).one()
    assert row.attachments == [{"sha256": document.sha256, "filename": document.filename,
                                "content_type": "application/pdf"}]


def test_rejection_notice_carries_the_reason(any_engine, smtp_server, mail_settings, store):
    with unit_of_work(any_engine) as s:
        world = make_world(s, years=YEARS)
        app = application_in(s, world, "in_review")
        wf.fire(s, app, "reject", world.reviewer, now=NOW,
                reason="Das Quartier liegt außerhalb der Gebietskulisse.")
        reference = app.reference
    messages = delivered(any_engine, mail_settings, store, smtp_server)
    filename, pdf = attached_pdf(messages["rejection"])
    assert filename == f"Ablehnungsbescheid {reference}.pdf"
    text = " ".join(text_of(pdf).split())
    assert "Ablehnungsbescheid" in text and reference in text
    assert "außerhalb der Gebietskulisse" in text
    assert "Rechtsbehelfsbelehrung" in text and "Verwaltungsgericht" in text
    assert filed(any_engine, reference, "reject").sha256 == hashlib.sha256(pdf).hexdigest()


def test_revocation_notice_carries_reasons_and_repayment(any_engine, smtp_server, mail_settings,
                                                          store):
    with unit_of_work(any_engine) as s:
        world = make_world(s, years=YEARS)
        app = application_in(s, world, "active")
        wf.fire(s, app, "open_hearing", world.reviewer, reason="Zweckverfehlung", now=NOW)
        wf.fire(s, app, "answer_hearing", world.carrier, reason="Stellungnahme", now=NOW)
        wf.fire(s, app, "revoke", world.approver, reason="Der Zuwendungszweck wurde verfehlt.",
                payload={"repayment": "12345.67"}, now=NOW + timedelta(days=2))
        reference = app.reference
    messages = delivered(any_engine, mail_settings, store, smtp_server)
    filename, pdf = attached_pdf(messages["revocation"])
    assert filename == f"Widerrufsbescheid {reference}.pdf"
    text = " ".join(text_of(pdf).split())
    assert "Widerrufsbescheid" in text and reference in text
    assert "Zuwendungszweck wurde verfehlt" in text
    assert "12.345,67 €" in text
    assert "Rechtsbehelfsbelehrung" in text and "Verwaltungsgericht" in text
    assert filed(any_engine, reference, "revoke").sha256 == hashlib.sha256(pdf).hexdigest()


def test_a_rolled_back_approval_leaves_no_notice_and_no_email(any_engine, store):
    with unit_of_work(any_engine) as s:
        world = make_world(s, years=YEARS)
        app = application_in(s, world, "recommended")
        reference = app.reference
    before = set(store.blobs())
    with pytest.raises(RuntimeError), unit_of_work(any_engine) as s:
        wf.fire(s, reference, "approve", world.approver, now=NOW)
        raise RuntimeError("the request fails after the firing")
    with Session(any_engine) as s:
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        assert app.state == "recommended"
        assert [d.purpose for d in case_file(s, app.id)] == ["application"]
        assert s.exec(select(OutboxMessage).where(OutboxMessage.template == "approval")).all() \
            == []
    # The rendered blob stays in the store, named by no document row: the sweeper's.
    assert len(set(store.blobs()) - before) == 1


def test_programme_config_overrides_the_default_texts(engine, store):
    with unit_of_work(engine) as s:
        world = make_world(s, years=YEARS)
        programme = s.exec(select(Programme)).one()
        programme.config = {**programme.config, "notices": {
            "rechtsbehelfsbelehrung": "Klage binnen eines Monats beim Verwaltungsgericht Köln.",
            "financing_type": "Anteilfinanzierung"}}
        s.add(programme)
        s.flush()
        app = application_in(s, world, "approved")
        reference = app.reference
    with Session(engine) as s:
        document = filed(engine, reference, "approve")
    with store.open(document.sha256) as stream:
        text = " ".join(text_of(stream.read()).split())
    assert "Verwaltungsgericht Köln" in text and "Anteilfinanzierung" in text
    assert "Fehlbedarfsfinanzierung" not in text
    assert "ANBest-P" in text  # what the programme did not override stays the default


def test_historical_data_without_pdfs_files_and_attaches_nothing(engine, store):
    with unit_of_work(engine) as s, bescheide.without_pdfs():
        world = make_world(s, years=YEARS)
        app = application_in(s, world, "approved")
        app_id = app.id
    with Session(engine) as s:
        assert case_file(s, app_id) == []
        rows = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert rows and all(r.attachments == [] for r in rows)
    assert list(store.blobs()) == []


def test_a_session_can_name_its_own_document_store(engine, tmp_path):
    own = FileStore(tmp_path / "own")
    with unit_of_work(engine) as s:
        s.info[bescheide.SESSION_STORE_KEY] = own
        world = make_world(s, years=YEARS)
        reference = application_in(s, world, "submitted").reference
    document = filed(engine, reference, "submit")
    assert own.exists(document.sha256)

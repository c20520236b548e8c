"""Written notices (Bescheide): the Zuwendungsbescheid on approval, the Ablehnungs- and
Widerrufsbescheid, and the application as a PDF on submission.

A firing whose trigger issues a notice (`states.notices.NOTICE_OF_TRIGGER`) renders it after its
history row is written, puts the PDF into the document store and records it in the case file in
the firing's own transaction; the carrier's email then carries it as an attachment by reference
to the store. A rolled-back firing leaves a blob that no document row names (the sweeper's).

The texts (authority, legal paragraphs, Nebenbestimmungen, Rechtsbehelfsbelehrung) are programme
configuration: the ZiQ defaults in `workflow/data/notice_texts.json`, overridden key by key by
the programme's `config["notices"]`.

Bulk historical data (the demo seed) may be written `without_pdfs()`: such firings render and
file no notice and their emails carry none. Everything else always renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from notifications.pdf import render_pdf
from states import (
    DEADLINE_LABELS,
    FINAL_STATES,
    FINANCING,
    DeadlineKind,
    DeadlineStatus,
    FinancingKind,
    State,
)
from states.notices import NOTICE_OF_TRIGGER, NOTICES, NoticeKind
from workflow import deadlines, finance_plan, repository
from workflow.documents import record_document
from workflow.errors import InvalidInput
from workflow.firing import Firing
from workflow.models import Document, Module, Organisation, TransitionRecord
from workflow.repository import connection
from workflow.settings import get_settings
from workflow.storage import Store

PDF = "application/pdf"
TEXTS_FILE = Path(__file__).parent / "data" / "notice_texts.json"
ESF_SOURCES = frozenset({"ESF"})
_WITH_FUNDING = frozenset({NoticeKind.zuwendungsbescheid, NoticeKind.widerrufsbescheid})

_render = ContextVar("render_notice_pdfs", default=True)
_store: ContextVar[Store | None] = ContextVar("notice_store", default=None)


@contextmanager
def without_pdfs() -> Iterator[None]:
    """Firings inside render and file no notice: only for bulk historical data (the seed)."""
    token = _render.set(False)
    try:
        yield
    finally:
        _render.reset(token)


@contextmanager
def using_store(store: Store) -> Iterator[None]:
    """Notices go to `store` instead of the settings' document store (tests, tools)."""
    token = _store.set(store)
    try:
        yield
    finally:
        _store.reset(token)


# Where a caller with its own settings (e.g. an app built with explicit Settings) puts its store.
SESSION_STORE_KEY = "document_store"


def notice_store(session: Session | None = None) -> Store:
    """`using_store`'s store, else the session's (`session.info["document_store"]`), else the
    settings' document store."""
    own = session.info.get(SESSION_STORE_KEY) if session is not None else None
    return _store.get() or own or get_settings().document_store()


@lru_cache(maxsize=1)
def default_texts() -> dict[str, Any]:
    return json.loads(TEXTS_FILE.read_text("utf-8"))


def texts_of(config: dict[str, Any]) -> dict[str, Any]:
    """The ZiQ defaults, overridden by the programme's `config["notices"]`."""
    own = config.get("notices") or {}
    if not isinstance(own, dict):
        return default_texts()
    return {**default_texts(), **own}


def issue_notice(firing: Firing, record: TransitionRecord) -> list[dict[str, str]]:
    """Render, store and file the notice `firing` issues, if any; returns the email's
    attachments (references to the store)."""
    kind = NOTICE_OF_TRIGGER.get(firing.spec.trigger)
    if kind is None or not _render.get():
        return []
    context = notice_context(firing, kind)
    pdf = render_pdf(kind.value, context)
    blob = notice_store(firing.session).put([pdf])
    notice = NOTICES[kind]
    filename = f"{notice.label.de} {firing.app.reference}.pdf"
    record_document(firing.session, firing.app.id, blob, filename=filename, content_type=PDF,
                    purpose=notice.purpose, actor=None, now=firing.now,
                    transition_id=record.id)
    return [{"sha256": blob.sha256, "filename": filename, "content_type": PDF}]


def notice_context(firing: Firing, kind: NoticeKind) -> dict[str, Any]:
    """Everything a notice says, read in the firing's transaction."""
    session, app, programme = firing.session, firing.app, firing.programme
    conn = connection(session)
    organisation = session.get(Organisation, app.organisation_id)
    module = session.exec(select(Module).where(Module.programme_id == programme.id,
                                               Module.code == app.module_code)).first()
    carrier = firing.loaded.carrier or repository.user(conn, app.created_by_id)
    officer = firing.loaded.officer
    if app.case_officer_id is None:
        officer = None
    elif officer is None or officer.id != app.case_officer_id:
        officer = repository.user(conn, app.case_officer_id)
    years = sorted(firing.years.values(), key=lambda y: y.year)
    signer = firing.actor.name
    reviewer = officer.name if officer and officer.name != signer else None
    # Only an approval and a revocation speak of the committed money.
    funding, years_total = _funding(firing) if kind in _WITH_FUNDING else ([], [])
    texts = texts_of(programme.config or {})
    if "financing_type" not in ((programme.config or {}).get("notices") or {}):
        texts["financing_type"] = FINANCING[FinancingKind(firing.call.financing_kind)].label.de
    return {
        "document_title": NOTICES[kind].label.de,
        "texts": texts,
        "finance_plan": _finance_plan(firing),
        "programme_name": programme.name,
        "programme_purpose": programme.purpose,
        "reference": app.reference or f"#{app.id}",
        "title": app.title,
        "summary": app.summary,
        "quartier": app.quartier,
        "municipality": app.municipality or (organisation.municipality if organisation else ""),
        "module_code": app.module_code,
        "module_name": module.name if module else "",
        "organisation_name": organisation.name if organisation else "",
        "carrier_name": carrier.name if carrier else "",
        "case_officer_name": officer.name if officer else programme.contact_name,
        "case_officer_email": officer.email if officer else programme.contact_email,
        "issued_on": deadlines.local_date(firing.now),
        "received_on": deadlines.local_date(app.received_at or firing.now),
        "project_start": app.project_start,
        "project_end": app.project_end,
        "own_contribution_cents": app.own_contribution_cents,
        "plan": [{"year": y.year, "requested_cents": y.requested_cents,
                  "approved_cents": y.approved_cents or 0} for y in years],
        "requested_total_cents": sum(y.requested_cents for y in years),
        "approved_total_cents": sum(y.approved_cents or 0 for y in years),
        "approved_on": deadlines.local_date(app.approved_at) if app.approved_at else None,
        "funding": funding,
        "years_total": years_total,
        "total_cents": sum(row["cents"] for row in funding),
        "has_esf": any(row["source"] in ESF_SOURCES for row in funding),
        "deadlines": _open_deadlines(firing),
        "reason": firing.reason or "",
        "repayment_cents": app.repayment_claim_cents or 0,
        "signer_name": signer,
        "reviewer_name": reviewer,
    }


def _finance_plan(firing: Firing) -> list[dict[str, Any]]:
    """The plan per budget year with the programme's cost headings (the eligible expenses), as
    the notice lists it; empty for a programme without headings or an application without one."""
    heads = finance_plan.headings(firing.programme.config)
    if not heads:
        return []
    lines = firing.plan_lines
    if lines is None:
        lines, _ = repository.plan_and_budget_years(connection(firing.session), firing.app.id,
                                                    firing.call.id)
    plan = finance_plan.from_lines(firing.call, heads, lines)
    return [{"year": y.year,
             "expenses": [{"label": h.de, "cents": y.expenses.get(h.code, 0)} for h in heads
                          if y.expenses.get(h.code)],
             "total_expenses_cents": y.total_expenses, "own_cents": y.own,
             "third_party_cents": y.third_party, "grant_cents": y.grant}
            for y in sorted(plan.years.values(), key=lambda y: y.year)]


def _funding(firing: Firing) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """How the application's commitment is split over the call's budget lines (the ledger):
    per budget year and funding source, and per year."""
    held = repository.commitments(connection(firing.session), firing.app.id)
    if not held:
        return [], []
    lines = firing.lines or repository.budget_lines(connection(firing.session),
                                                    firing.app.call_id)
    funding = [{"year": line.year, "source": line.source, "cents": held[line.id]}
               for line in sorted(lines, key=lambda li: (li.year, li.priority))
               if held.get(line.id)]
    per_year: dict[int, int] = {}
    for row in funding:
        per_year[row["year"]] = per_year.get(row["year"], 0) + row["cents"]
    return funding, [{"year": y, "cents": c} for y, c in sorted(per_year.items())]


def _open_deadlines(firing: Firing) -> list[dict[str, Any]]:
    """The deadlines open after the firing: those it opened and those it left open."""
    if State(firing.app.state) in FINAL_STATES:
        return []
    opened = {(d.kind, d.period) for d in firing.opened}
    still = [d for d in firing.deadlines if d.status == DeadlineStatus.open
             and d.kind not in firing.spec.closes and (d.kind, d.period) not in opened]
    return [{"label": DEADLINE_LABELS[DeadlineKind(d.kind)].de, "period": d.period,
             "due_date": d.due_date}
            for d in sorted([*firing.opened, *still], key=lambda d: d.due_date)]


def filename_prefix(kind: str) -> str:
    """How the files of a notice kind are named ("Zuwendungsbescheid"); refuses unknown kinds."""
    try:
        return NOTICES[NoticeKind(kind)].label.de
    except ValueError:
        known = ", ".join(k.value for k in NoticeKind)
        raise InvalidInput(f"Unbekannte Bescheidart „{kind}“ (bekannt: {known}).",
                           f"Unknown notice kind '{kind}' (known: {known}).",
                           field="kind") from None


def notices_of(session: Session, application_id: int) -> list[Document]:
    """The application's generated notices and application PDFs, oldest first."""
    purposes = [n.purpose.value for n in NOTICES.values()]
    return list(session.exec(
        select(Document).where(Document.application_id == application_id,
                               Document.purpose.in_(purposes))  # type: ignore[attr-defined]
        .order_by(Document.uploaded_at, Document.id)))

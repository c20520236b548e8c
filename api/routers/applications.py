"""Applications: create, edit drafts, list and read, history, deadlines, and firing transitions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import exists, func, or_
from sqlmodel import select

from api.deps import (
    ActorDep,
    IdempotencyKeyDep,
    IfMatchDep,
    LanguageDep,
    SessionDep,
    WriterDep,
    etag,
)
from api.errors import TITLES_EN, PreconditionFailed, language
from api.idempotency import Idempotent
from api.schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationPage,
    ApplicationUpdate,
    DeadlineOut,
    FireRequest,
    FireResult,
    HistoryEntry,
    TriggerOut,
)
from states import TRANSITIONS_BY_TRIGGER, Role, State
from workflow import applications, deadlines, drafts, engine
from workflow.errors import StaleVersion
from workflow.models import Application, Call, Deadline, Organisation, User
from workflow.presenters import application_out, application_summary, deadline_out, history_entry
from workflow.reminders import overdue_filter

router = APIRouter(prefix="/api/v1", tags=["applications"])

PREFIX = "/api/v1/applications"


def _stale(current: int, expected: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"Der Antrag wurde inzwischen geändert (aktuelle Version {current}, If-Match nannte "
        f"{expected}). Es wurde nichts gespeichert; bitte neu laden.",
        f"The application has changed (current version {current}, If-Match named {expected}). "
        "Nothing was saved; please reload.", current_version=current)


def _today() -> Any:
    return deadlines.local_date(datetime.now(UTC))


@router.post("/applications", status_code=201, response_model=ApplicationOut,
             summary="Create a draft (carrier)",
             responses={201: {"headers": {"ETag": {}, "Location": {}}}})
def create_application(request: Request, body: ApplicationCreate, session: SessionDep,
                       actor: WriterDep, lang: LanguageDep,
                       idempotency_key: IdempotencyKeyDep) -> JSONResponse:
    idem = Idempotent.begin(session, actor.id, idempotency_key, f"POST {request.url.path}",
                            body.model_dump(mode="json", exclude_unset=True))
    if idem.replay:
        return idem.replay
    app = drafts.create_application(session, actor, body.call, body.engine_fields())
    out = application_out(session, app.id, lang)
    return idem.respond(201, out, {"ETag": etag(app.version),
                                   "Location": f"{PREFIX}/{app.reference}"})


@router.get("/applications", response_model=ApplicationPage, summary="List and search")
def list_applications(
    session: SessionDep, actor: ActorDep, lang: LanguageDep,
    state: State | None = None,
    call: Annotated[str | None, Query(description="Call code")] = None,
    module: Annotated[str | None, Query(description="Module code, e.g. B1")] = None,
    organisation: Annotated[int | None, Query(description="Carrier organisation id")] = None,
    municipality: str | None = None,
    overdue: Annotated[bool | None, Query(description="Has an open deadline past due")] = None,
    escalated: Annotated[bool | None, Query(
        description="Grace period after the formal reminder ended; the case officer was told")]
    = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="Text in reference, title, summary, quartier")]
    = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    query = (select(Application, Call.code, Organisation.name)
             .join(Call, Call.id == Application.call_id)
             .join(Organisation, Organisation.id == Application.organisation_id))
    if actor.role == Role.carrier:
        query = query.where(Application.organisation_id == actor.organisation_id)
    if state is not None:
        query = query.where(Application.state == state.value)
    if call:
        query = query.where(Call.code == call)
    if module:
        query = query.where(Application.module_code == module)
    if organisation is not None:
        query = query.where(Application.organisation_id == organisation)
    if municipality:
        query = query.where(Application.municipality == municipality)
    if overdue is not None:
        late = exists().where(Deadline.application_id == Application.id,
                              Deadline.status == "open", Deadline.due_date < _today())
        query = query.where(late if overdue else ~late)
    if escalated is not None:
        query = query.where(overdue_filter() if escalated else ~overdue_filter())
    if q and q.strip():
        text = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            Application.reference, Application.title, Application.summary, Application.quartier))))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Application.id).limit(limit).offset(offset)).all()
    return {"items": [application_summary(a, code, org, lang) for a, code, org in rows],
            "total": int(total), "limit": limit, "offset": offset}


@router.get("/applications/{reference}", response_model=ApplicationOut,
            summary="One application with its amounts per year",
            responses={200: {"headers": {"ETag": {}}}})
def get_application(reference: str, response: Response, session: SessionDep, actor: ActorDep,
                    lang: LanguageDep) -> dict[str, Any]:
    app = applications.load_application(session, reference, actor)
    response.headers["ETag"] = etag(app.version)
    return application_out(session, app.id, lang)


@router.patch("/applications/{reference}", response_model=ApplicationOut,
              summary="Edit a draft (carrier; If-Match recommended)")
def edit_application(reference: str, body: ApplicationUpdate, response: Response,
                     session: SessionDep, actor: WriterDep, lang: LanguageDep,
                     expected: IfMatchDep) -> dict[str, Any]:
    app = applications.load_application(session, reference, actor)
    if expected is not None and app.version != expected:
        raise _stale(app.version, expected)
    try:
        app = drafts.edit_draft(session, app, actor, body.engine_fields(),
                                expected_version=expected)
    except StaleVersion:
        if expected is None:
            raise
        raise _stale(applications.load_application(session, app.id).version, expected) from None
    response.headers["ETag"] = etag(app.version)
    return application_out(session, app.id, lang)


@router.get("/applications/{reference}/history", response_model=list[HistoryEntry],
            summary="Every transition: who, when, from, to, why")
def get_history(reference: str, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    app = applications.load_application(session, reference, actor)
    out = []
    for record in applications.history(session, app):
        user = session.get(User, record.actor_id) if record.actor_id else None
        out.append(history_entry(record, user.name if user else None))
    return out


@router.get("/applications/{reference}/deadlines", response_model=list[DeadlineOut],
            summary="Deadlines of one application")
def get_deadlines(reference: str, session: SessionDep, actor: ActorDep,
                  lang: LanguageDep) -> list[dict[str, Any]]:
    app = applications.load_application(session, reference, actor)
    rows = session.exec(select(Deadline).where(Deadline.application_id == app.id)
                        .order_by(Deadline.due_date, Deadline.id)).all()
    today = _today()
    return [deadline_out(d, today, lang) for d in rows]


@router.get("/applications/{reference}/transitions", response_model=list[TriggerOut],
            summary="What the current user may do now, and why not")
def get_transitions(reference: str, session: SessionDep, actor: ActorDep,
                    lang: LanguageDep) -> list[dict[str, Any]]:
    app = applications.load_application(session, reference, actor)
    out = []
    for trigger, refusal in engine.available_triggers(session, app, actor).items():
        reason = None
        if refusal is not None:
            reason = {"type": refusal.type,
                      "title": TITLES_EN.get(refusal.type, refusal.title) if lang == "en"
                      else refusal.title,
                      "detail": refusal.message(lang)}
        out.append({"trigger": trigger,
                    "label": TRANSITIONS_BY_TRIGGER[trigger].label.in_language(lang),
                    "available": refusal is None, "reason": reason})
    return out


@router.post("/applications/{reference}/transitions/{trigger}", response_model=FireResult,
             summary="Fire a transition (If-Match and Idempotency-Key recommended)",
             responses={200: {"headers": {"ETag": {}}}})
def fire_transition(request: Request, reference: str, trigger: str, session: SessionDep,
                    actor: WriterDep, expected: IfMatchDep, idempotency_key: IdempotencyKeyDep,
                    body: Annotated[FireRequest | None, Body()] = None) -> JSONResponse:
    lang = language(request)  # a call, not a dependency: FastAPI's cost is per dependency
    body = body or FireRequest()
    if idempotency_key is None:
        idem = Idempotent.begin(session, actor.id, None, "", None)
    else:
        idem = Idempotent.begin(session, actor.id, idempotency_key, f"POST {request.url.path}",
                                body.model_dump(mode="json", exclude_unset=True))
        if idem.replay:
            return idem.replay
    target: Application | str = reference
    if trigger not in TRANSITIONS_BY_TRIGGER:
        # Refused by fire anyway; first, as always, 'not found' and If-Match.
        target = applications.load_application(session, reference, actor)
        if expected is not None and target.version != expected:
            raise _stale(target.version, expected)
    try:
        # By reference: fire reads the application with its call, programme, years and
        # deadlines in one statement, checks visibility and If-Match's version (StaleVersion).
        record = engine.fire(session, target, trigger, actor, reason=body.reason,
                             payload=body.engine_payload(), expected_version=expected)
    except StaleVersion:
        if expected is None:
            raise
        raise _stale(applications.load_application(session, reference).version, expected) from None
    if record.actor_id is None:
        actor_name = None
    elif record.actor_id == actor.id:
        actor_name = actor.name
    else:
        user = session.get(User, record.actor_id)
        actor_name = user.name if user else None
    application = application_out(session, record.application_id, lang, iso=True)
    response = idem.respond(200, {"transition": history_entry(record, actor_name, iso=True),
                                  "application": application},
                            {"ETag": etag(application["version"])}, encoded=True)
    # Commit here, in this worker thread: the session dependency then has nothing left to do
    # (no second trip through the threadpool). A failing commit still becomes a problem.
    session.commit()
    return response

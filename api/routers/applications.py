"""Applications: create, edit drafts, list and read, history, deadlines, and firing transitions.

Each handler parses, makes one workflow call and presents; the session dependency commits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import (
    CaseReaderDep,
    IdempotencyKeyDep,
    IfMatchDep,
    LanguageDep,
    SessionDep,
    UnitOfWorkRoute,
    WriterDep,
    etag,
)
from api.errors import TITLES_EN, PreconditionFailed, language
from api.idempotency import Idempotent
from api.schemas import (
    DB_ID_MAX,
    NO_NUL,
    ApplicationCreate,
    ApplicationOut,
    ApplicationPage,
    ApplicationUpdate,
    DeadlineOut,
    EarlyStartRequest,
    EarlyStartResult,
    FireRequest,
    FireResult,
    HistoryEntry,
    TriggerOut,
)
from states import EARLY_START_NO_CLAIM, TRANSITIONS, TRANSITIONS_BY_TRIGGER, State
from states.staff import WorklistSort
from workflow import access, commands, drafts, early_start, engine, queries, worklist
from workflow.errors import StaleVersion, WorkflowError
from workflow.presenters import application_out, deadline_out, history_entry

router = APIRouter(prefix="/api/v1", tags=["applications"], route_class=UnitOfWorkRoute)

PREFIX = "/api/v1/applications"
# Documented as an enum; an unknown name still gets the engine's refusal (422 unknown-trigger).
TRIGGERS = list(dict.fromkeys(t.trigger for t in TRANSITIONS))
TriggerPath = Annotated[str, Path(description="A transition of the lifecycle",
                                  json_schema_extra={"enum": TRIGGERS})]


def _precondition_failed(error: StaleVersion, expected: int) -> PreconditionFailed:
    """If-Match named another version than the one stored: 412, with the current version when
    the workflow knows it (a write that lost a race to another one does not)."""
    current = error.extra.get("current_version")
    if current is None:
        return PreconditionFailed(
            f"Der Antrag wurde inzwischen geändert (If-Match nannte {expected}). Es wurde "
            "nichts gespeichert; bitte neu laden.",
            f"The application has changed (If-Match named {expected}). Nothing was saved; "
            "please reload.")
    return PreconditionFailed(
        f"Der Antrag wurde inzwischen geändert (aktuelle Version {current}, If-Match nannte "
        f"{expected}). Es wurde nichts gespeichert; bitte neu laden.",
        f"The application has changed (current version {current}, If-Match named {expected}). "
        "Nothing was saved; please reload.", current_version=current)


@router.post("/applications", status_code=201, response_model=ApplicationOut,
             summary="Create a draft (carrier)",
             responses={201: {"headers": {"ETag": {}, "Location": {}}},
                        404: {"description": "No such call"}})
def create_application(request: Request, body: ApplicationCreate, session: SessionDep,
                       actor: WriterDep, lang: LanguageDep,
                       idempotency_key: IdempotencyKeyDep) -> JSONResponse:
    idem = Idempotent.begin(session, actor.id, idempotency_key, f"POST {request.url.path}",
                            body.model_dump(mode="json", exclude_unset=True))
    if idem.replay:
        return idem.replay
    app = drafts.create_application(session, actor, body.call, body.engine_fields())
    return idem.respond(201, application_out(session, app.id, lang),
                        {"ETag": etag(app.version), "Location": f"{PREFIX}/{app.reference}"})


class WorklistQuery:
    """The worklist's filters, sort and paging as query parameters (shared with the exports)."""

    def __init__(
        self,
        state: State | None = None,
        call: Annotated[str | None, Query(max_length=100, pattern=NO_NUL,
                                          description="Call code")] = None,
        module: Annotated[str | None, Query(max_length=100, pattern=NO_NUL,
                                            description="Module code, e.g. B1")] = None,
        organisation: Annotated[int | None, Query(ge=1, le=DB_ID_MAX,
                                                  description="Carrier organisation id")] = None,
        municipality: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
        overdue: Annotated[bool | None, Query(
            description="Has an open deadline past due")] = None,
        escalated: Annotated[bool | None, Query(
            description="Grace period after the formal reminder ended; the case officer was "
                        "told")] = None,
        q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description=(
            "Text in reference, title, summary, quartier or organisation name"))] = None,
        mine: Annotated[bool, Query(description="The case officer is me")] = False,
        unassigned: Annotated[bool, Query(description="Nobody has taken the case")] = False,
        waiting_for_me: Annotated[bool, Query(description=(
            "I am the case officer and documents or a report came in since my last act"))]
        = False,
        case_officer: Annotated[int | None, Query(ge=1, le=DB_ID_MAX,
                                                  description="Case officer's user id")] = None,
        sort: Annotated[WorklistSort, Query(description="Order by")] = WorklistSort.received,
        order: Annotated[Literal["asc", "desc"], Query(description="Direction")] = "asc",
    ) -> None:
        self.filter = worklist.WorklistFilter(
            state=state, call=call, module=module, organisation=organisation,
            municipality=municipality, overdue=overdue, escalated=escalated, text=q, mine=mine,
            unassigned=unassigned, waiting_for_me=waiting_for_me, case_officer=case_officer)
        self.sort = sort
        self.descending = order == "desc"


WorklistQueryDep = Annotated[WorklistQuery, Depends()]


@router.get("/applications", response_model=ApplicationPage,
            summary="The worklist: filter, search, sort and page")
def list_applications(
    session: SessionDep, actor: CaseReaderDep, lang: LanguageDep, query: WorklistQueryDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0,
) -> dict[str, Any]:
    page = worklist.worklist_page(session, actor, query.filter, sort=query.sort,
                                  descending=query.descending, limit=limit, offset=offset)
    return {"items": [worklist.worklist_item(row, lang) for row in page.items],
            "total": page.total, "limit": page.limit, "offset": page.offset,
            "sort": page.sort.value, "order": "desc" if page.descending else "asc"}


@router.get("/applications/{reference}", response_model=ApplicationOut,
            summary="One application with its amounts per year",
            responses={200: {"headers": {"ETag": {}}}})
def get_application(reference: str, response: Response, session: SessionDep, actor: CaseReaderDep,
                    lang: LanguageDep) -> dict[str, Any]:
    app = access.read_application(session, reference, actor)
    response.headers["ETag"] = etag(app.version)
    return application_out(session, app.id, lang)


@router.patch("/applications/{reference}", response_model=ApplicationOut,
              summary="Edit a draft (carrier; If-Match recommended)")
def edit_application(reference: str, body: ApplicationUpdate, response: Response,
                     session: SessionDep, actor: WriterDep, lang: LanguageDep,
                     expected: IfMatchDep) -> dict[str, Any]:
    try:
        app = commands.edit_draft(session, reference, actor, body.engine_fields(),
                                  expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    response.headers["ETag"] = etag(app.version)
    return application_out(session, app.id, lang)


@router.get("/applications/{reference}/history", response_model=list[HistoryEntry],
            summary="Every transition: who, when, from, to, why")
def get_history(reference: str, session: SessionDep, actor: CaseReaderDep) -> list[dict[str, Any]]:
    return [history_entry(record, name)
            for record, name in queries.history_of(session, reference, actor)]


@router.get("/applications/{reference}/deadlines", response_model=list[DeadlineOut],
            summary="Deadlines of one application")
def get_deadlines(reference: str, session: SessionDep, actor: CaseReaderDep,
                  lang: LanguageDep) -> list[dict[str, Any]]:
    rows = queries.deadlines_of(session, reference, actor)
    today = queries.today()
    return [deadline_out(d, today, lang) for d in rows]


def _refusal_out(refusal: WorkflowError, lang: str) -> dict[str, str]:
    title = TITLES_EN.get(refusal.type, refusal.title) if lang == "en" else refusal.title
    return {"type": refusal.type, "title": title, "detail": refusal.message(lang)}


@router.get("/applications/{reference}/transitions", response_model=list[TriggerOut],
            summary="What the current user may do now, and why not")
def get_transitions(reference: str, session: SessionDep, actor: CaseReaderDep,
                    lang: LanguageDep) -> list[dict[str, Any]]:
    return [{"trigger": trigger,
             "label": TRANSITIONS_BY_TRIGGER[trigger].label.in_language(lang),
             "available": refusal is None,
             "reason": None if refusal is None else _refusal_out(refusal, lang)}
            for trigger, refusal in queries.transitions_of(session, reference, actor).items()]


@router.post("/applications/{reference}/transitions/{trigger}", response_model=FireResult,
             summary="Fire a transition (If-Match and Idempotency-Key recommended)",
             responses={200: {"headers": {"ETag": {}}}})
def fire_transition(request: Request, reference: str, trigger: TriggerPath, session: SessionDep,
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
    try:
        # By reference: fire reads the application with its call, programme, years and
        # deadlines in one statement, refuses one the actor may not see (NotFound) and one whose
        # version is not If-Match's (StaleVersion).
        record = engine.fire(session, reference, trigger, actor, reason=body.reason,
                             payload=body.engine_payload(), expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    application = application_out(session, record.application_id, lang, iso=True)
    name = queries.actor_name(session, record.actor_id, actor)
    return idem.respond(200, {"transition": history_entry(record, name, iso=True),
                              "application": application},
                        {"ETag": etag(application["version"])}, encoded=True)


@router.post("/applications/{reference}/early-start", response_model=EarlyStartResult,
             summary="Grant an early start (Vorzeitiger Maßnahmebeginn; reviewer or approver)",
             responses={200: {"headers": {"ETag": {}}}})
def grant_early_start(reference: str, body: EarlyStartRequest, response: Response,
                      session: SessionDep, actor: WriterDep, lang: LanguageDep,
                      expected: IfMatchDep) -> dict[str, Any]:
    try:
        record = early_start.grant_early_start(session, reference, actor, reason=body.reason,
                                               expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    application = application_out(session, record.application_id, lang)
    response.headers["ETag"] = etag(application["version"])
    return {"transition": history_entry(record, queries.actor_name(session, record.actor_id,
                                                                   actor)),
            "application": application, "right_to_funding": False,
            "notice": EARLY_START_NO_CLAIM.in_language(lang)}

"""Programme administration: programmes, modules and calls (audited), ledger, budget changes,
funding stop, users; the workflow diagram."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import ActorDep, AdminDep, IdempotencyKeyDep, LanguageDep, SessionDep, UnitOfWorkRoute
from api.idempotency import Idempotent
from api.schemas import (
    DB_ID_MAX,
    AuditPage,
    BudgetChangeRequest,
    CallClose,
    CallCreate,
    CallOut,
    CallUpdate,
    ExpenseHeadings,
    FundingStopRequest,
    LedgerPage,
    ModuleIn,
    ModuleOut,
    ModuleRename,
    PasswordReset,
    PasswordResetOut,
    ProgrammeCreate,
    ProgrammeOut,
    RowId,
    UserCreate,
    UserOut,
)
from states.diagram import mermaid
from workflow import calls_admin, commands, finance_headings, queries, users
from workflow.presenters import call_status, euros, user_out

router = APIRouter(prefix="/api/v1", tags=["administration"], route_class=UnitOfWorkRoute)


def _ledger_entry_out(row: queries.LedgerRow) -> dict[str, Any]:
    entry = row.entry
    return {"id": entry.id, "at": entry.at, "kind": entry.kind, "year": row.year,
            "source": row.source, "committed_delta": euros(entry.committed_delta_cents),
            "budget_delta": euros(entry.budget_delta_cents),
            "paid_delta": euros(entry.paid_delta_cents),
            "repaid_delta": euros(entry.repaid_delta_cents), "funds_call_id": entry.funds_call_id,
            "application": row.reference,
            "actor_id": entry.actor_id, "note": entry.note}


@router.get("/admin/calls/{code}/ledger", response_model=LedgerPage,
            summary="Ledger entries of a call (every change to budget, committed, paid or repaid "
                    "money)")
def get_ledger(code: str, session: SessionDep, actor: AdminDep,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200,
               offset: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0) -> dict[str, Any]:
    page = queries.ledger_page(session, code, limit, offset)
    return {"items": [_ledger_entry_out(row) for row in page.items], "total": page.total,
            "limit": page.limit, "offset": page.offset}


@router.post("/admin/calls/{code}/budget-changes", response_model=CallOut,
             summary="Increase or cut one budget line (signed euros)")
def change_budget(request: Request, code: str, body: BudgetChangeRequest, session: SessionDep,
                  actor: AdminDep, idempotency_key: IdempotencyKeyDep) -> JSONResponse:
    idem = Idempotent.begin(session, actor.id, idempotency_key, f"POST {request.url.path}",
                            body.model_dump(mode="json"))
    if idem.replay:
        return idem.replay
    call = commands.change_budget(session, code, body.year, body.source, body.delta_cents(),
                                  actor, body.note)
    return idem.respond(200, call_status(session, call), {})


@router.post("/admin/calls/{code}/funding-stop", response_model=CallOut,
             summary="Declare a funding stop (with a reason)")
def declare_funding_stop(code: str, body: FundingStopRequest, session: SessionDep,
                         actor: AdminDep) -> dict[str, Any]:
    """A stop already in force (declared or automatic) is refused with 409 and left as it is:
    its `since` never moves and the carriers are not told again."""
    return call_status(session, commands.declare_funding_stop(session, code, body.reason, actor))


@router.delete("/admin/calls/{code}/funding-stop", response_model=CallOut,
               summary="Lift a funding stop (an automatic stop stays while money is short)")
def lift_funding_stop(code: str, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """An automatic stop that still holds is refused with 409 (funding-stop) and the reason.
    A declared stop lifted while money is short stays in force as the automatic stop, with
    the same `since`."""
    return call_status(session, commands.lift_funding_stop(session, code, actor))


# ------------------------------------------------------------------ programmes, modules, calls


@router.get("/admin/programmes", response_model=list[ProgrammeOut],
            summary="All programmes with their modules and calls")
def list_programmes(session: SessionDep, actor: AdminDep) -> list[dict[str, Any]]:
    return [calls_admin.programme_snapshot(session, p) for p in calls_admin.programmes(session)]


@router.post("/admin/programmes", status_code=201, response_model=ProgrammeOut,
             summary="Create a programme (with its first modules); audited")
def create_programme(body: ProgrammeCreate, session: SessionDep,
                     actor: AdminDep) -> dict[str, Any]:
    """A code already taken is refused with 409."""
    programme = calls_admin.create_programme(session, actor, body.model_dump())
    return calls_admin.programme_snapshot(session, programme)


@router.put("/admin/programmes/{code}/finance-plan-headings", response_model=ProgrammeOut,
            summary="Set the cost headings of the programme's finance plan; audited",
            responses={404: {"description": "No programme with this code"},
                       409: {"description": "A heading to remove is in a submitted plan"}})
def set_expense_headings(code: str, body: ExpenseHeadings, session: SessionDep,
                         actor: AdminDep) -> dict[str, Any]:
    """Headings a submitted plan uses cannot be removed (409 naming them); labels may change."""
    programme = finance_headings.set_expense_headings(session, actor, code,
                                                      [h.model_dump() for h in body.headings])
    return calls_admin.programme_snapshot(session, programme)


@router.post("/admin/programmes/{code}/modules", status_code=201, response_model=ModuleOut,
             summary="Add a module (Baustein) to a programme; audited")
def add_module(code: str, body: ModuleIn, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    module = calls_admin.add_module(session, actor, code, body.model_dump())
    return {"code": module.code, "name": module.name}


@router.patch("/admin/programmes/{code}/modules/{module}", response_model=ModuleOut,
              summary="Rename a module; audited")
def rename_module(code: str, module: str, body: ModuleRename, session: SessionDep,
                  actor: AdminDep) -> dict[str, Any]:
    renamed = calls_admin.rename_module(session, actor, code, module, body.name)
    return {"code": renamed.code, "name": renamed.name}


@router.post("/admin/calls", status_code=201, response_model=CallOut,
             summary="Create a call: window, policy, rules, budget per year and source; audited",
             responses={404: {"description": "No programme with this code"}})
def create_call(body: CallCreate, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return call_status(session, calls_admin.create_call(session, actor, body.programme,
                                                        body.admin_fields()))


@router.patch("/admin/calls/{code}", response_model=CallOut,
              summary="Edit a call while none of its applications has been submitted; audited")
def edit_call(code: str, body: CallUpdate, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """Once an application was submitted: 409 (budgets then change through budget-changes,
    closing early through close)."""
    return call_status(session, calls_admin.edit_call(session, actor, code, body.admin_fields()))


@router.post("/admin/calls/{code}/close", response_model=CallOut,
             summary="Close an open call now, with a reason; audited")
def close_call(code: str, body: CallClose, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return call_status(session, calls_admin.close_call(session, actor, code, body.reason))


@router.get("/admin/audit", response_model=AuditPage,
            summary="Changes to programmes, modules and calls, newest first")
def get_audit(session: SessionDep, actor: AdminDep, lang: LanguageDep,
              subject: Annotated[str | None, Query(max_length=100, description=(
                  "A programme or call code (a programme's modules come with it)"))] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0) -> dict[str, Any]:
    page = calls_admin.audit_page(session, actor, limit, offset, subject)
    return {"items": [calls_admin.audit_out(r, lang) for r in page.items], "total": page.total,
            "limit": page.limit, "offset": page.offset}


@router.get("/admin/users", response_model=list[UserOut], summary="All accounts")
def list_users(session: SessionDep, actor: AdminDep, lang: LanguageDep) -> list[dict[str, Any]]:
    return [user_out(u, lang) for u in users.list_users(session)]


@router.post("/admin/users", status_code=201, response_model=UserOut, summary="Create an account")
def create_user(body: UserCreate, session: SessionDep, actor: AdminDep,
                lang: LanguageDep) -> dict[str, Any]:
    user = users.create_user(session, email=body.email, name=body.name, role=body.role.value,
                             password=body.password, organisation_id=body.organisation_id,
                             language=body.language)
    return user_out(user, lang)


@router.post("/admin/users/{user_id}/disable", response_model=UserOut,
             summary="Disable an account (its tokens stop working)")
def disable_user(user_id: RowId, session: SessionDep, actor: AdminDep,
                 lang: LanguageDep) -> dict[str, Any]:
    """Not one's own account, nor the last active admin account (409)."""
    return user_out(users.disable_user(session, user_id, by=actor.id), lang)


@router.post("/admin/users/{user_id}/enable", response_model=UserOut,
             summary="Enable a disabled account again")
def enable_user(user_id: RowId, session: SessionDep, actor: AdminDep,
                lang: LanguageDep) -> dict[str, Any]:
    return user_out(users.enable_user(session, user_id), lang)


@router.post("/admin/users/{user_id}/reset-password", response_model=PasswordResetOut,
             summary="Reset an account's password (to be changed at its next login)")
def reset_password(user_id: RowId, session: SessionDep, actor: AdminDep, lang: LanguageDep,
                   body: PasswordReset | None = None) -> dict[str, Any]:
    """Sets the given password, or a random one-time password that the answer shows once.
    Every token of the account stops working; after logging in with the new password the
    account can only change it (every other endpoint answers 403 until then)."""
    user, generated = users.set_password(session, user_id, body.password if body else None,
                                         must_change=True)
    return {"user": user_out(user, lang), "password": generated}


@router.get("/workflow/diagram", response_class=PlainTextResponse,
            summary="The lifecycle as a Mermaid state diagram")
def workflow_diagram(actor: ActorDep, lang: LanguageDep) -> str:
    return mermaid(lang)

"""The settlement in the portal (issue 16): staff's page /pruefung/antraege/{reference}/abrechnung
with paid against the final grant per year, the settle form (the grounds of a partial
revocation when more was paid) and the repayment form once a claim stands; the carrier sees the
same table and its claim with the balance and the account to pay into on its case page. The
rules are workflow.settlement's; the pages decide nothing themselves."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import SessionDep
from api.portal import staff_view as view
from api.portal.base import FormDep, StaffDep, form_values, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from states import ACTIONS, ActionName, State
from workflow import belegliste, settlement
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Application
from workflow.rows import Actor

router = portal_router()
SETTLE = ACTIONS[ActionName.settle]
REPAY = ACTIONS[ActionName.record_repayment]
# The form's fields for the workflow's field names in a refusal.
FIELDS = {"reason": "begruendung", "amount": "betrag", "value_date": "valuta", "note": "vermerk"}


def section(session: Session, app: Application, actor: Actor, lang: str) -> dict[str, Any] | None:
    """The settlement for a case page once a final grant is fixed or a claim stands, else None."""
    out = settlement.view(session, app.reference, actor, lang=lang)
    if out["claim"] is None and all(y["final_grant"] is None for y in out["years"]):
        return None
    return out


def _may(action: Any, actor: Actor, app: Application) -> bool:
    return action.allows(actor.role) and State(app.state) in action.in_states


def _show(request: Request, session: Session, reference: str, actor: Actor,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> Response:
    app = view.staff_application(session, reference, actor)
    return page(request, "portal/staff/settlement.html", {
        "app": app, "settlement": settlement.view(session, reference, actor,
                                                  lang=request_language(request)),
        "may_settle": _may(SETTLE, actor, app), "may_repay": _may(REPAY, actor, app),
        "values": values or {}, "errors": errors or {}}, status_code=status)


def _refusal(request: Request, session: Session, reference: str, actor: Actor, form: Any,
             error: WorkflowError) -> Response:
    refused(session)
    field = FIELDS.get(str(error.extra.get("field") or ""), "")
    return _show(request, session, reference, actor, form_values(form),
                 {field: error.message(request_language(request))}, error.status)


@router.get("/pruefung/antraege/{reference}/abrechnung")
def settlement_page(reference: str, request: Request, session: SessionDep,
                    actor: StaffDep) -> Response:
    return _show(request, session, reference, actor)


@router.post("/pruefung/antraege/{reference}/abrechnung")
def settle(reference: str, request: Request, session: SessionDep, actor: StaffDep,
           form: FormDep) -> Response:
    try:
        settlement.settle(session, reference, actor,
                          reason=str(form.get("begruendung") or "") or None)
    except WorkflowError as error:
        return _refusal(request, session, reference, actor, form, error)
    return redirect(request, f"/pruefung/antraege/{reference}/abrechnung",
                    flash=_(request, "Der Fall ist abgerechnet."))


@router.post("/pruefung/antraege/{reference}/abrechnung/rueckzahlung")
def repayment(reference: str, request: Request, session: SessionDep, actor: StaffDep,
              form: FormDep) -> Response:
    text = str(form.get("valuta") or "").strip()
    try:
        try:
            value_date = belegliste.parse_day(text) if text else None
        except ValueError:
            raise InvalidInput(f"Valuta: „{text[:20]}“ ist kein Datum (TT.MM.JJJJ).",
                               f"Value date: “{text[:20]}” is not a date (DD.MM.YYYY).",
                               field="value_date") from None
        settlement.record_repayment(session, reference, actor,
                                    amount=str(form.get("betrag") or ""),
                                    value_date=value_date,
                                    note=str(form.get("vermerk") or "") or None)
    except WorkflowError as error:
        return _refusal(request, session, reference, actor, form, error)
    return redirect(request, f"/pruefung/antraege/{reference}/abrechnung",
                    flash=_(request, "Die Rückzahlung ist erfasst."))

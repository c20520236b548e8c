"""The settlement in the portal (issue 16): staff's page /pruefung/antraege/{reference}/abrechnung
with paid against the final grant per year, the settle form (the grounds of a partial
revocation when more was paid) and the repayment form once a claim stands; the carrier sees the
same table and its claim with the balance and the account to pay into on its case page. The
rules are workflow.settlement's; the pages decide nothing themselves."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, select

from api.deps import SessionDep
from api.portal import staff_view as view
from api.portal.base import FormDep, StaffDep, form_values, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from notifications import formatting
from states import ACTIONS, ActionName, State
from workflow import belegliste, settlement
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Application
from workflow.payment_tables import Payment
from workflow.rows import Actor

router = portal_router()
SETTLE = ACTIONS[ActionName.settle]
REPAY = ACTIONS[ActionName.record_repayment]
LATE_USE = ACTIONS[ActionName.record_late_use]
# The states in which a final grant can be fixed or a repayment claim stand.
SETTLED_STATES = frozenset({State.report_submitted, State.report_changes_requested,
                            State.revocation_hearing, State.partially_revoked, State.revoked,
                            State.closed})
# The form's fields for the workflow's field names in a refusal.
FIELDS = {"reason": "begruendung", "amount": "betrag", "value_date": "valuta", "note": "vermerk",
          "payment_id": "zahlung", "used_on": "verwendet_am"}
LATE_FIELDS = {"amount": "spaet_betrag"}


def section(session: Session, app: Application, actor: Actor, lang: str) -> dict[str, Any] | None:
    """The settlement for a case page once a final grant is fixed or a claim stands, else None."""
    if State(app.state) not in SETTLED_STATES:
        return None  # no check of a final report yet, no revocation: nothing to read
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
    lang = request_language(request)
    paid = session.exec(select(Payment).where(Payment.application_id == app.id)
                        .order_by(Payment.value_date, Payment.id)).all()
    shown = settlement.view(session, reference, actor, lang=lang)
    # A paid claim takes no repayment and no late use (its interest is settled).
    claim_open = shown["claim"] is not None and shown["claim"]["status"] != "paid"
    return page(request, "portal/staff/settlement.html", {
        "app": app, "settlement": shown,
        "may_settle": _may(SETTLE, actor, app),
        "may_repay": _may(REPAY, actor, app) and claim_open,
        "may_late_use": _may(LATE_USE, actor, app) and claim_open and bool(paid),
        "payments": [(str(p.id), _(request, "%(day)s: %(amount)s, Haushaltsjahr %(year)s",
                                   day=formatting.day(p.value_date, lang),
                                   amount=formatting.money(p.amount_cents, lang), year=p.year))
                     for p in paid],
        "values": values or {}, "errors": errors or {}}, status_code=status)


def _refusal(request: Request, session: Session, reference: str, actor: Actor, form: Any,
             error: WorkflowError, fields: dict[str, str] | None = None) -> Response:
    refused(session)
    name = str(error.extra.get("field") or "")
    field = (fields or {}).get(name) or FIELDS.get(name, "")
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
        value_date = _day(text, "value_date", "Valuta", "Value date") if text else None
        settlement.record_repayment(session, reference, actor,
                                    amount=str(form.get("betrag") or ""),
                                    value_date=value_date,
                                    note=str(form.get("vermerk") or "") or None)
    except WorkflowError as error:
        return _refusal(request, session, reference, actor, form, error)
    return redirect(request, f"/pruefung/antraege/{reference}/abrechnung",
                    flash=_(request, "Die Rückzahlung ist erfasst."))


def _day(text: str, field: str, de: str, en: str) -> Any:
    try:
        return belegliste.parse_day(text)
    except ValueError:
        raise InvalidInput(f"{de}: „{text[:20]}“ ist kein Datum (TT.MM.JJJJ).",
                           f"{en}: “{text[:20]}” is not a date (DD.MM.YYYY).",
                           field=field) from None


@router.post("/pruefung/antraege/{reference}/abrechnung/spaete-verwendung")
def late_use(reference: str, request: Request, session: SessionDep, actor: StaffDep,
             form: FormDep) -> Response:
    """§ 49a (4) VwVfG: a payment used more than two months after it was paid."""
    try:
        choice = str(form.get("zahlung") or "")
        if not choice.isdigit():
            raise InvalidInput("Zahlung: bitte eine Auszahlung auswählen.",
                               "Payment: choose a payment.", field="payment_id")
        text = str(form.get("verwendet_am") or "").strip()
        if not text:
            raise InvalidInput("Verwendet am: bitte das Datum angeben (TT.MM.JJJJ).",
                               "Used on: give the date (DD.MM.YYYY).", field="used_on")
        amount = str(form.get("spaet_betrag") or "").strip() or None
        settlement.record_late_use(session, reference, actor, payment_id=int(choice),
                                   used_on=_day(text, "used_on", "Verwendet am", "Used on"),
                                   amount=amount)
    except WorkflowError as error:
        return _refusal(request, session, reference, actor, form, error, LATE_FIELDS)
    return redirect(request, f"/pruefung/antraege/{reference}/abrechnung",
                    flash=_(request, "Die späte Verwendung ist erfasst; die Zinsen nach § 49a "
                                     "Abs. 4 VwVfG sind der Rückforderung zugeschlagen."))

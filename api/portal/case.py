"""The carrier's case page (/antraege/{reference}), the download of a case-file document and
withdrawing with a confirmation. The forms that answer a request are in api.portal.case_forms."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import case_view as view
from api.portal import payments_pages, settlement_pages
from api.portal.base import (
    CarrierDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _, request_language
from workflow import calendar, engine, queries
from workflow.errors import NotFound, WorkflowError
from workflow.models import Organisation

router = portal_router()


def case_url(reference: str) -> str:
    return f"/antraege/{reference}"


def _calendar_links(request: Request, session: SessionDep, organisation_id: int | None
                    ) -> dict[str, str] | None:
    """The organisation's feed address (https and webcal), None while it has none yet (a GET
    writes nothing: the page offers to create it)."""
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None or not organisation.calendar_token:
        return None
    https = str(request.base_url).rstrip("/") + calendar.feed_path(organisation.calendar_token)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


@router.post("/antraege/{reference}/kalender")
def create_calendar(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
                    form: FormDep) -> Response:
    """The organisation's secret feed address, created on first use."""
    view.application_of(session, reference, actor)
    organisation = session.get(Organisation, actor.organisation_id)
    if organisation is None:
        raise NotFound("Organisation nicht gefunden.", "Organisation not found.")
    calendar.ensure_token(session, organisation)
    return redirect(request, case_url(reference) + "#kalender",
                    flash=_(request, "Die Kalenderadresse Ihrer Organisation ist eingerichtet."))


@router.get("/antraege/{reference}")
def case_page(reference: str, request: Request, session: SessionDep,
              actor: CarrierDep) -> Response:
    app = view.application_of(session, reference, actor)
    lang = request_language(request)
    today = queries.today()
    requested = view.requested_now(request, session, app, today)
    call, module = view.call_and_module(session, app)
    return page(request, "portal/case/case.html", {
        "app": app, "call": call, "module": module, "years": view.years_of(session, app),
        "next_step": view.next_step(app, lang), "requested": requested,
        "timeline": view.timeline(request, session, app),
        "offers": view.offers(request, session, app, actor, requested),
        "documents": view.documents_of(session, app, lang),
        "calendar": _calendar_links(request, session, actor.organisation_id),
        "money": payments_pages.money_section(session, app, lang, today),
        "settlement": settlement_pages.section(session, app, actor, lang)})


@router.get("/antraege/{reference}/dokumente/{document_id}")
def download(reference: str, document_id: str, request: Request, session: SessionDep,
             actor: CarrierDep) -> Response:
    """One document of the case file, streamed (another organisation's: 404)."""
    return view.document_download(request, session, view.application_of(session, reference, actor),
                                  document_id)


def _withdraw_page(request: Request, app, refusal: WorkflowError | None,  # noqa: ANN001
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   status_code: int = 200) -> Response:
    lang = request_language(request)
    return page(request, "portal/case/withdraw.html", {
        "app": app, "refusal": refusal.message(lang) if refusal else None,
        "errors": errors or {}, "values": values or {}}, status_code=status_code)


@router.get("/antraege/{reference}/zurueckziehen")
def withdraw_form(reference: str, request: Request, session: SessionDep,
                  actor: CarrierDep) -> Response:
    app = view.application_of(session, reference, actor)
    return _withdraw_page(request, app, view.withdraw_refusal(session, app, actor))


@router.post("/antraege/{reference}/zurueckziehen")
def withdraw(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
             form: FormDep) -> Response:
    app = view.application_of(session, reference, actor)
    reason = str(form.get("grund") or "").strip()
    try:
        engine.fire(session, app.reference or app.id, "withdraw", actor, reason=reason or None)
    except WorkflowError as error:
        refused(session)
        app = view.application_of(session, reference, actor)
        errors = form_errors(error, request_language(request))
        errors = {("grund" if k == "reason" else ""): v for k, v in errors.items()}
        return _withdraw_page(request, app, view.withdraw_refusal(session, app, actor), errors,
                              form_values(form), error.status)
    return redirect(request, case_url(reference),
                    flash=_(request, "Ihr Antrag wurde zurückgezogen. Eine Bestätigung kommt "
                                     "per E-Mail."))

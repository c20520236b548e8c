"""The approver's signing queue (/zeichnung): the recommended cases with the recommended amounts,
the money still available per budget year of their calls, who reviewed each (four-eyes) and
whether the engine lets this approver sign; sign or return to review with a reason, and the
Zuwendungsbescheid as it would be issued, before signing (workflow.notice_preview)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import case_view
from api.portal import staff_view as view
from api.portal.base import (
    ApproverPageDep,
    FormDep,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _, request_language
from states import TRANSITIONS_BY_TRIGGER
from states.staff import SIGNING
from workflow import assessment, budget, engine, notice_preview, worklist
from workflow.errors import NotFound, StaleVersion, WorkflowError
from workflow.models import Application, Call
from workflow.rows import Actor

router = portal_router()
QUEUE = "/zeichnung"
QUEUE_LIMIT = 200


def _queue(request: Request, session: SessionDep, actor: Actor) -> dict[str, Any]:
    lang = request_language(request)
    found = worklist.worklist_page(session, actor, worklist.WorklistFilter(state=SIGNING.state),
                                   sort=worklist.WorklistSort.received, limit=QUEUE_LIMIT)
    cases, call_ids = [], []
    for row in found.items:
        app = session.get(Application, row.application.id)
        refusal = engine.check(session, app.id, SIGNING.sign, actor)
        current = assessment.latest(session, app.id)
        cases.append({
            "app": app, "organisation": row.organisation, "officer": row.case_officer_name,
            "years": case_view.years_of(session, app),
            "reviewers": view.reviewer_names(session, app),
            "refusal": refusal.message(lang) if refusal else None,
            "assessment": current})
        if app.call_id not in call_ids:
            call_ids.append(app.call_id)
    money = [(session.get(Call, call_id), list(budget.years(session, call_id).values()))
             for call_id in call_ids]
    return {"cases": cases, "money": money, "total": found.total,
            "sign_label": TRANSITIONS_BY_TRIGGER[SIGNING.sign].label.in_language(lang),
            "back_label": TRANSITIONS_BY_TRIGGER[SIGNING.send_back].label.in_language(lang)}


def _render(request: Request, session: SessionDep, actor: Actor, *,
            errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
            status_code: int = 200) -> Response:
    context = _queue(request, session, actor)
    shown = {c["app"].reference for c in context["cases"]}
    # A refusal about a case that has left the queue (changed meanwhile) stands at the top.
    stray = [message for key, message in (errors or {}).items()
             if key.split("__", 1)[-1] not in shown]
    context.update(errors=errors or {}, values=values or {}, stray=stray)
    return page(request, "portal/staff/signing.html", context, status_code=status_code)


@router.get("/zeichnung")
def signing_queue(request: Request, session: SessionDep, actor: ApproverPageDep) -> Response:
    return _render(request, session, actor)


def _fire(request: Request, session: SessionDep, actor: Actor, reference: str, trigger: str,
          form: Any, field: str) -> Response:
    lang = request_language(request)
    raw = str(form.get("version") or "")
    # The reason's field is named per case (several forms on one page): grund-<id>.
    texts = [str(v) for k, v in form.items() if field and k.startswith(field + "-")]
    reason = next((t.strip() for t in texts if t.strip()), None)
    try:
        app = view.staff_application(session, reference, actor)
        engine.fire(session, app.reference or reference, trigger, actor, reason=reason,
                    expected_version=int(raw) if raw.isdigit() and len(raw) < 10 else None)
    except WorkflowError as error:
        refused(session)
        message = error.message(lang)
        if isinstance(error, StaleVersion):
            message = _(request, "Der Antrag wurde inzwischen geändert; die Liste zeigt jetzt "
                                 "den neuen Stand. Bitte prüfen Sie ihn noch einmal.")
        return _render(request, session, actor,
                       errors={f"{field or 'zeichnen'}__{reference}": message},
                       values=form_values(form), status_code=error.status)
    label = TRANSITIONS_BY_TRIGGER[trigger].label.in_language(lang)
    return redirect(request, QUEUE, flash=_(request, "%(reference)s: %(action)s erledigt.",
                                            reference=reference, action=label))


@router.post("/zeichnung/{reference}/zeichnen")
def sign(reference: str, request: Request, session: SessionDep, actor: ApproverPageDep,
         form: FormDep) -> Response:
    return _fire(request, session, actor, reference, SIGNING.sign, form, "")


@router.post("/zeichnung/{reference}/zurueckgeben")
def send_back(reference: str, request: Request, session: SessionDep, actor: ApproverPageDep,
              form: FormDep) -> Response:
    return _fire(request, session, actor, reference, SIGNING.send_back, form, "grund")


@router.post("/zeichnung/{reference}/bescheid-vorschau")
def notice_preview_pdf(reference: str, request: Request, session: SessionDep,
                       actor: ApproverPageDep, form: FormDep) -> Response:
    """The Zuwendungsbescheid the signature would issue now (nothing is kept). A POST: the
    preview fires the approval inside a savepoint, which needs a writing transaction."""
    app = view.staff_application(session, reference, actor)
    if app.state != SIGNING.state.value:
        raise NotFound(f"Antrag {reference} wartet nicht auf die Zeichnung.",
                       f"Application {reference} is not waiting for signature.")
    pdf = notice_preview.approval_notice_preview(session, app.id, actor)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="Bescheid-Vorschau {app.reference}.pdf"',
        "X-Content-Type-Options": "nosniff"})

"""Programme administration's other pages: the start page /verwaltung, programmes and their
modules, user accounts and roles (create, change the role, disable, enable), and the outbox's
dead letters with requeue. The same workflow functions as the admin API."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import i18n
from api.portal.base import (
    AdminPageDep,
    FiguresDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _
from states import ROLE_LABELS, Role
from workflow import calls_admin, finance_headings, finance_plan, mail, users
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Organisation
from workflow.rows import Actor

router = portal_router()
ASSIGNABLE = (Role.reviewer, Role.approver, Role.admin, Role.observer)


@router.get("/verwaltung")
def start(request: Request, session: SessionDep, actor: FiguresDep) -> Response:
    """Where staff and the observer land after logging in: what they may open."""
    return page(request, "portal/admin/start.html", {"is_admin": actor.role == Role.admin})


# ------------------------------------------------------------------ programmes and modules


EMPTY_HEADING_ROWS = 2  # room for new cost headings below the existing ones
MAX_HEADING_ROWS = 40


def _heading_rows(programme: Any) -> list[dict[str, str]]:
    rows = [{"code": h.code, "de": h.de, "en": h.en}
            for h in finance_plan.headings(programme.config)]
    return rows + [{"code": "", "de": "", "en": ""}] * EMPTY_HEADING_ROWS


def _programmes_page(request: Request, session: SessionDep, errors: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, status: int = 200,
                     typed_headings: tuple[str, list[dict[str, str]]] | None = None) -> Response:
    programmes = calls_admin.programmes(session)
    heading_rows = {p.code: _heading_rows(p) for p in programmes}
    if typed_headings is not None:  # a refusal: the rows as typed
        heading_rows[typed_headings[0]] = typed_headings[1]
    return page(request, "portal/admin/programmes.html", {
        "programmes": [calls_admin.programme_snapshot(session, p) for p in programmes],
        "heading_rows": heading_rows,
        "errors": errors or {}, "values": values or {}}, status_code=status)


@router.post("/verwaltung/programme/{code}/kostenpositionen")
def set_headings(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
                 form: FormDep) -> Response:
    """The cost headings as the form lists them; an empty row is left out."""
    typed: list[dict[str, str]] = []
    for index in range(MAX_HEADING_ROWS):
        row = {part: str(form.get(f"kp-{code}-{index}-{part}") or "").strip()[:200]
               for part in ("code", "de", "en")}
        if f"kp-{code}-{index}-code" not in form:
            break
        typed.append(row)
    given = [(index, row) for index, row in enumerate(typed) if any(row.values())]
    try:
        finance_headings.set_expense_headings(session, actor, code, [row for _, row in given])
    except WorkflowError as refusal:
        refused(session)
        message = refusal.message(i18n.request_language(request))
        field = str(refusal.extra.get("field") or "")
        parts = field.split(".")
        if len(parts) == 3 and parts[0] == "headings" and parts[1].isdigit() \
                and int(parts[1]) < len(given):
            name = f"kp-{code}-{given[int(parts[1])][0]}-{parts[2]}"
        else:
            name = ""
        return _programmes_page(request, session, {name: message}, {}, refusal.status,
                                typed_headings=(code, typed))
    return redirect(request, "/verwaltung/programme", flash=_(
        request, "Die Kostenpositionen von %(code)s sind gespeichert.", code=code))


@router.get("/verwaltung/programme")
def programmes(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    return _programmes_page(request, session)


@router.post("/verwaltung/programme/{code}/bausteine")
def add_module(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
               form: FormDep) -> Response:
    values = form_values(form)
    try:
        module = calls_admin.add_module(session, actor, code, {
            "code": values.get(f"kuerzel-{code}", ""), "name": values.get(f"name-{code}", "")})
    except WorkflowError as refusal:
        refused(session)
        found = form_errors(refusal, i18n.request_language(request))
        errors = {{"code": f"kuerzel-{code}", "name": f"name-{code}"}.get(k, k): v
                  for k, v in found.items()}
        return _programmes_page(request, session, errors, values, refusal.status)
    return redirect(request, "/verwaltung/programme", flash=_(
        request, "Der Baustein %(code)s ist angelegt.", code=module.code))


# ------------------------------------------------------------------ users and roles


def _role_options(language: str) -> list[tuple[str, str]]:
    return [(r.value, ROLE_LABELS[r].in_language(language)) for r in ASSIGNABLE]


def _users_page(request: Request, session: SessionDep, actor: Actor,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                status: int = 200) -> Response:
    language = i18n.request_language(request)
    organisations = {o.id: o.name for o in session.query(Organisation).all()}
    return page(request, "portal/admin/users.html", {
        "accounts": users.list_users(session), "organisations": organisations,
        "role_options": _role_options(language),
        "role_label": {r.value: ROLE_LABELS[r].in_language(language) for r in ROLE_LABELS},
        "me": actor.id, "errors": errors or {},
        "values": values or {"rolle": Role.reviewer.value, "sprache": "de"},
        "languages": [("de", "Deutsch"), ("en", "English")]}, status_code=status)


@router.get("/verwaltung/benutzer")
def accounts(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    return _users_page(request, session, actor)


@router.post("/verwaltung/benutzer")
def create_account(request: Request, session: SessionDep, actor: AdminPageDep,
                   form: FormDep) -> Response:
    """A staff or observer account (carriers register their organisation themselves)."""
    values = form_values(form)
    try:
        role = values.get("rolle", "")
        if role not in {r.value for r in ASSIGNABLE}:
            raise InvalidInput("Bitte eine Rolle wählen.", "Choose a role.", field="role")
        user = users.create_user(session, email=values.get("email", ""),
                                 name=values.get("name", ""), role=role,
                                 password=values.get("passwort", ""),
                                 language=values.get("sprache", "de"))
    except WorkflowError as refusal:
        refused(session)
        found = form_errors(refusal, i18n.request_language(request))
        errors = {{"role": "rolle", "password": "passwort", "language": "sprache"}.get(k, k): v
                  for k, v in found.items()}
        return _users_page(request, session, actor, errors, values, refusal.status)
    return redirect(request, "/verwaltung/benutzer", flash=_(
        request, "Das Konto für %(email)s ist angelegt.", email=user.email))


def _account_action(request: Request, session: SessionDep, actor: Actor, user_id: int,
                    form: Any, action: Any, done: str) -> Response:
    values = form_values(form)
    try:
        user = action(values)
    except WorkflowError as refusal:
        refused(session)
        message = refusal.message(i18n.request_language(request))
        return _users_page(request, session, actor, {f"konto-{user_id}": message}, values,
                           refusal.status)
    return redirect(request, "/verwaltung/benutzer", flash=done % {"email": user.email})


@router.post("/verwaltung/benutzer/{user_id}/rolle")
def change_role(request: Request, user_id: int, session: SessionDep, actor: AdminPageDep,
                form: FormDep) -> Response:
    return _account_action(
        request, session, actor, user_id, form,
        lambda v: users.change_role(session, user_id, v.get(f"rolle-{user_id}", ""),
                                    by=actor.id),
        _(request, "Die Rolle von %(email)s ist geändert; das Konto meldet sich neu an."))


@router.post("/verwaltung/benutzer/{user_id}/sperren")
def disable(request: Request, user_id: int, session: SessionDep, actor: AdminPageDep,
            form: FormDep) -> Response:
    return _account_action(request, session, actor, user_id, form,
                           lambda v: users.disable_user(session, user_id, by=actor.id),
                           _(request, "Das Konto %(email)s ist gesperrt."))


@router.post("/verwaltung/benutzer/{user_id}/entsperren")
def enable(request: Request, user_id: int, session: SessionDep, actor: AdminPageDep,
           form: FormDep) -> Response:
    return _account_action(request, session, actor, user_id, form,
                           lambda v: users.enable_user(session, user_id),
                           _(request, "Das Konto %(email)s ist wieder freigegeben."))


# ------------------------------------------------------------------ the outbox


def _mail_page(request: Request, session: SessionDep, errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    language = i18n.request_language(request)
    overview = mail.overview(session)
    return page(request, "portal/admin/mail.html", {
        "overview": overview, "warning": overview.warning(language),
        "dead": mail.list_dead(session), "errors": errors or {}}, status_code=status)


@router.get("/verwaltung/postausgang")
def outbox(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    return _mail_page(request, session)


@router.post("/verwaltung/postausgang/{outbox_id}")
def requeue(request: Request, outbox_id: int, session: SessionDep, actor: AdminPageDep,
            form: FormDep) -> Response:
    try:
        message = mail.requeue(session, outbox_id)
    except WorkflowError as refusal:
        refused(session)
        return _mail_page(request, session, {
            f"mail-{outbox_id}": refusal.message(i18n.request_language(request))},
            refusal.status)
    return redirect(request, "/verwaltung/postausgang", flash=_(
        request, "Die E-Mail an %(to)s ist erneut eingereiht.", to=message.recipient))

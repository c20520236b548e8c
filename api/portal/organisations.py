"""The organisation's page (its data and colleagues; its admin invites) and the programme
administration's page of registrations (confirm, or reject with a reason)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.portal import i18n
from api.portal.base import (
    AdminPageDep,
    CarrierDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _
from states.accounts import OrganisationStatus
from workflow import bank_account, onboarding
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Organisation, User

router = portal_router()


def organisation_page(request: Request, session: SessionDep, actor: Any,
                      values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None, status: int = 200,
                      bank_values: dict[str, str] | None = None,
                      bank_errors: dict[str, str] | None = None) -> Response:
    language = i18n.request_language(request)
    organisation = session.get(Organisation, actor.organisation_id)
    me = session.get(User, actor.id)
    account = bank_account.bank_account_out(organisation)
    return page(request, "portal/accounts/organisation.html", {
        "bank": account, "bank_errors": bank_errors or {},
        "bank_values": bank_values if bank_values is not None else {
            "iban": account["iban_formatted"] or "", "bic": account["bic"] or "",
            "account_holder": organisation.account_holder or ""},
        "organisation": onboarding.organisation_out(organisation, language),
        "colleagues": onboarding.colleagues(session, organisation.id),
        "is_admin": bool(me and me.organisation_admin),
        "values": values or {"language": "de"}, "errors": errors or {},
        "languages": [("de", "Deutsch"), ("en", "English")]}, status_code=status)


@router.get("/organisation")
def organisation(request: Request, session: SessionDep, actor: CarrierDep) -> Response:
    return organisation_page(request, session, actor)


@router.post("/organisation")
def invite(request: Request, session: SessionDep, settings: SettingsDep, actor: CarrierDep,
           form: FormDep) -> Response:
    """The organisation's admin invites a colleague (who gets the link by email)."""
    values = form_values(form)
    try:
        colleague = onboarding.invite(session, actor, values,
                                      link_hours=settings.onboarding_link_hours)
    except WorkflowError as refusal:
        refused(session)
        return organisation_page(request, session, actor, values,
                                  form_errors(refusal, i18n.request_language(request)),
                                  refusal.status)
    return redirect(request, "/organisation", flash=_(
        request, "%(name)s ist eingeladen und erhält eine E-Mail mit einem Link zum Festlegen "
                 "des Passworts.", name=colleague.name))


# ------------------------------------------------------------------ programme administration


def _registrations_page(request: Request, session: SessionDep,
                        errors: dict[str, str] | None = None,
                        values: dict[str, Any] | None = None, status: int = 200) -> Response:
    language = i18n.request_language(request)
    everything = onboarding.organisations(session)
    pending = [onboarding.organisation_out(o, language) for o in everything
               if o.status == OrganisationStatus.pending]
    decided = [onboarding.organisation_out(o, language) for o in reversed(everything)
               if o.status != OrganisationStatus.pending and o.registered_at is not None][:20]
    return page(request, "portal/accounts/registrations.html", {
        "pending": pending, "decided": decided, "errors": errors or {},
        "values": values or {}}, status_code=status)


@router.get("/verwaltung/organisationen")
def registrations(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    return _registrations_page(request, session)


@router.post("/verwaltung/organisationen")
def decide(request: Request, session: SessionDep, settings: SettingsDep, actor: AdminPageDep,
           form: FormDep) -> Response:
    """Confirm (`entscheidung=bestaetigen`) or reject (`ablehnen`, with `grund-<id>`) the
    registration `organisation`."""
    values = form_values(form)
    key = values.get("organisation", "")
    decision = values.get("entscheidung", "")
    reason_field = f"grund-{key}"
    try:
        if not key.isdigit():
            raise InvalidInput("Bitte eine Registrierung wählen.", "Choose a registration.",
                               field="")
        if decision == "bestaetigen":
            decided = onboarding.confirm(session, actor, int(key),
                                         link_hours=settings.onboarding_link_hours)
            message = _(request, "Die Registrierung von „%(name)s“ ist bestätigt; die "
                                 "Ansprechperson erhält den Link zum Passwort.",
                        name=decided.name)
        elif decision == "ablehnen":
            decided = onboarding.reject(session, actor, int(key), values.get(reason_field, ""))
            message = _(request, "Die Registrierung von „%(name)s“ ist abgelehnt.",
                        name=decided.name)
        else:
            raise InvalidInput("Bitte bestätigen oder ablehnen.", "Confirm or reject.", field="")
    except WorkflowError as refusal:
        refused(session)
        errors = form_errors(refusal, i18n.request_language(request))
        if "reason" in errors:
            errors = {reason_field: errors["reason"]}
        return _registrations_page(request, session, errors, values, refusal.status)
    return redirect(request, "/verwaltung/organisationen", flash=message)

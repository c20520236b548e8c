"""Accounts as data: an organisation's registration status, the one-time links (set a password,
reset it, accept an invitation) and their emails, and the portal page each carrier email links
to, with what the carrier does there."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.deadlines import DeadlineKind
from states.labels import Label


class OrganisationStatus(StrEnum):
    """A registered organisation waits for the programme administration's confirmation; only a
    confirmed one's accounts log in (the seed's and the admin-created ones are confirmed)."""

    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


ORGANISATION_STATUS_LABELS: dict[OrganisationStatus, Label] = {
    OrganisationStatus.pending: Label("Wartet auf Bestätigung", "Awaiting confirmation"),
    OrganisationStatus.confirmed: Label("Bestätigt", "Confirmed"),
    OrganisationStatus.rejected: Label("Abgelehnt", "Rejected"),
}

# The legal forms a registering organisation chooses from (Rechtsform).
LEGAL_FORMS: dict[str, Label] = {
    "eingetragener_verein": Label("Eingetragener Verein (e. V.)", "Registered association (e. V.)"),
    "ggmbh": Label("Gemeinnützige GmbH (gGmbH)", "Non-profit limited company (gGmbH)"),
    "stiftung": Label("Stiftung", "Foundation"),
    "genossenschaft": Label("Genossenschaft (eG)", "Cooperative (eG)"),
    "koerperschaft_oeffentlichen_rechts": Label(
        "Körperschaft des öffentlichen Rechts (z. B. Kommune, Kirchengemeinde)",
        "Public-law body (e.g. municipality, parish)"),
    "sonstige": Label("Sonstige Rechtsform", "Other legal form"),
}


class TokenPurpose(StrEnum):
    """What a one-time link lets its holder do: always choose a password for one account."""

    set_password = "set_password"  # the contact of a confirmed registration
    reset_password = "reset_password"  # "Passwort vergessen"
    invitation = "invitation"  # a colleague invited by the organisation's admin


@dataclass(frozen=True)
class OneTimeLink:
    """A purpose's email and how long its link is valid (the setting named by `lifetime`)."""

    purpose: TokenPurpose
    email: str
    lifetime: str  # the Settings field, in hours


ONE_TIME_LINKS: dict[TokenPurpose, OneTimeLink] = {link.purpose: link for link in (
    OneTimeLink(TokenPurpose.set_password, "registration_confirmed", "onboarding_link_hours"),
    OneTimeLink(TokenPurpose.reset_password, "password_reset", "password_reset_link_hours"),
    OneTimeLink(TokenPurpose.invitation, "invitation", "onboarding_link_hours"),
)}

REGISTRATION_RECEIVED_EMAIL = "registration_received"
REGISTRATION_REJECTED_EMAIL = "registration_rejected"
# Emails about an account, not about an application (their own layout, no reference number).
ACCOUNT_EMAILS: tuple[str, ...] = (
    REGISTRATION_RECEIVED_EMAIL, REGISTRATION_REJECTED_EMAIL,
    *(link.email for link in ONE_TIME_LINKS.values()))


# ------------------------------------------------------------------ the portal page of an email


@dataclass(frozen=True)
class PortalPage:
    """A page of the carrier portal: its path (with `{reference}` or `{token}` from the email's
    context) and what the carrier does there, the words of the email's link."""

    path: str
    action: Label


CASE_PAGE = PortalPage("/antraege/{reference}", Label("Ihren Antrag in Quartier öffnen",
                                                      "Open your application in Quartier"))
DOCUMENTS_PAGE = PortalPage("/antraege/{reference}/unterlagen",
                            Label("Unterlagen nachreichen", "Provide the documents"))
INTERIM_REPORT_PAGE = PortalPage("/antraege/{reference}/zwischennachweis",
                                 Label("Zwischennachweis einreichen", "Submit the interim report"))
FINAL_REPORT_PAGE = PortalPage("/antraege/{reference}/verwendungsnachweis",
                               Label("Verwendungsnachweis einreichen", "Submit the final report"))
HEARING_PAGE = PortalPage("/antraege/{reference}/anhoerung",
                          Label("Zur Anhörung Stellung nehmen", "Reply to the hearing"))
MY_APPLICATIONS_PAGE = PortalPage("/antraege", Label("Meine Anträge öffnen",
                                                     "Open my applications"))
SET_PASSWORD_PAGE = PortalPage("/passwort-setzen/{token}",
                               Label("Passwort festlegen", "Choose your password"))

# The page each carrier email links to; an email kind not named here links to the case page
# (every transition and interim-report email), an account email to its password page. Reminders
# link to the section of their deadline (DEADLINE_PAGES).
EMAIL_PAGES: dict[str, PortalPage] = {
    "documents_requested": DOCUMENTS_PAGE,
    "hearing": HEARING_PAGE,
    "report_changes_requested": FINAL_REPORT_PAGE,
    "interim_report_changes_requested": INTERIM_REPORT_PAGE,
    "project_started": CASE_PAGE,
    "funding_stop": MY_APPLICATIONS_PAGE,
    "funding_stop_lifted": MY_APPLICATIONS_PAGE,
    **{link.email: SET_PASSWORD_PAGE for link in ONE_TIME_LINKS.values()},
}
DEADLINE_PAGES: dict[DeadlineKind, PortalPage] = {
    DeadlineKind.document_request: DOCUMENTS_PAGE,
    DeadlineKind.interim_report: INTERIM_REPORT_PAGE,
    DeadlineKind.final_report: FINAL_REPORT_PAGE,
    DeadlineKind.report_changes: FINAL_REPORT_PAGE,
    DeadlineKind.hearing_reply: HEARING_PAGE,
}
# Emails that link nowhere: for staff (the case officer's, the escalation), or with nothing
# to do on a page (registration received or rejected).
NO_PAGE: frozenset[str] = frozenset({"case_officer_notice", "case_returned", "deadline_escalation",
                                     REGISTRATION_RECEIVED_EMAIL, REGISTRATION_REJECTED_EMAIL})

"""The link in every carrier email: the portal page where the carrier acts (states.accounts'
mapping), under QUARTIER_PUBLIC_URL, and the words that say what to do there."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from states import REMINDER_EMAIL, DeadlineKind
from states.accounts import CASE_PAGE, DEADLINE_PAGES, EMAIL_PAGES, NO_PAGE, PortalPage
from workflow.settings import get_settings

# Where a caller with its own settings (an app built with explicit Settings) puts its address.
SESSION_PUBLIC_URL_KEY = "public_url"


def public_url(session: Session | None = None) -> str:
    """The session's portal address (`session.info["public_url"]`), else the settings'."""
    own = session.info.get(SESSION_PUBLIC_URL_KEY) if session is not None else None
    return (own or get_settings().public_url).rstrip("/")


def page_of(template: str, context: dict[str, Any]) -> PortalPage | None:
    """The page an email of `template` with `context` links to (None: it links nowhere)."""
    if template in NO_PAGE:
        return None
    if template == REMINDER_EMAIL:
        return DEADLINE_PAGES.get(DeadlineKind(context["deadline_kind"]), CASE_PAGE)
    page = EMAIL_PAGES.get(template)
    if page is None and context.get("reference"):
        return CASE_PAGE
    return page


def path_of(page: PortalPage, *, reference: str | None = None, token: str | None = None) -> str:
    return page.path.format(reference=quote(reference or "", safe=""),
                            token=quote(token or "", safe=""))


def with_link(session: Session | None, template: str, language: str, context: dict[str, Any],
              token: str | None = None) -> dict[str, Any]:
    """`context` with `link` (the absolute address) and `link_label` (what to do there) for the
    email's page; unchanged for an email that links nowhere."""
    page = page_of(template, context)
    if page is None:
        return context
    path = path_of(page, reference=context.get("reference"), token=token)
    return {**context, "link": public_url(session) + path,
            "link_label": page.action.in_language(language)}

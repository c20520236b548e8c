"""Every carrier email links to the portal page where the carrier acts, under
QUARTIER_PUBLIC_URL, and says there what to do; staff emails link nowhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from notifications.outbox import OutboxMessage
from notifications.render import ACCOUNT_TEMPLATES, LANGUAGES, TEMPLATES, render
from states import DeadlineKind
from tests.factories import application_in, make_world
from tests.notifications.samples import sample_context
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.links import SESSION_PUBLIC_URL_KEY, page_of, public_url, with_link

BASE = "https://foerderung.example.org"
REF = "ZiQ-2021-0042"

# The path each kind links to (the samples' reference); None: no link (staff emails).
EXPECTED = {
    "documents_requested": f"/antraege/{REF}/unterlagen",
    "hearing": f"/antraege/{REF}/anhoerung",
    "report_changes_requested": f"/antraege/{REF}/verwendungsnachweis",
    "interim_report_changes_requested": f"/antraege/{REF}/zwischennachweis",
    "funding_stop": "/antraege",
    "funding_stop_lifted": "/antraege",
    "deadline_reminder": f"/antraege/{REF}/verwendungsnachweis",  # the sample's final report
    "case_officer_notice": None,
    "case_returned": None,
    "deadline_escalation": None,
}


class _Info:
    info = {SESSION_PUBLIC_URL_KEY: BASE + "/"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_kind_links_to_its_page_in_text_and_html(template: str,
                                                            language: str) -> None:
    context = with_link(_Info(), template, language, sample_context(template))  # type: ignore
    email = render(template, language, context)
    path = EXPECTED.get(template, f"/antraege/{REF}")
    if path is None:
        assert "link" not in context and "https://" not in email.text
        return
    link = BASE + path
    assert context["link"] == link
    assert f"\n{link}\n" in email.text
    assert f'<a href="{link}">{context["link_label"]}</a>' in email.html
    # The words of the link say what to do there, in the recipient's language.
    assert f"{context['link_label']}:\n{link}" in email.text


@pytest.mark.parametrize(("kind", "path"), [
    (DeadlineKind.document_request, "unterlagen"), (DeadlineKind.interim_report,
                                                    "zwischennachweis"),
    (DeadlineKind.final_report, "verwendungsnachweis"),
    (DeadlineKind.report_changes, "verwendungsnachweis"),
    (DeadlineKind.hearing_reply, "anhoerung")])
def test_reminders_link_to_the_section_of_their_deadline(kind, path) -> None:
    page = page_of("deadline_reminder", {"deadline_kind": kind.value, "reference": REF})
    assert page.path.endswith("/" + path)


def test_account_emails_link_to_the_password_page_with_the_token() -> None:
    for template in ACCOUNT_TEMPLATES:
        context = with_link(_Info(), template, "de", {}, token="abc-DEF_1")  # type: ignore
        if template.startswith("registration_r"):  # received, rejected: nothing to click
            assert "link" not in context
        else:
            assert context["link"] == BASE + "/passwort-setzen/abc-DEF_1"
            assert context["link_label"] == "Passwort festlegen"


@given(st.text(min_size=1, max_size=30))
def test_a_reference_is_quoted_into_one_path_segment(reference: str) -> None:
    link = with_link(_Info(), "approval", "de", {"reference": reference})["link"]  # type: ignore
    assert link.startswith(BASE + "/antraege/")
    segment = link.removeprefix(BASE + "/antraege/")
    assert "/" not in segment and "?" not in segment and "#" not in segment and " " not in segment


def test_the_engine_writes_the_link_of_the_sessions_address(engine) -> None:
    with unit_of_work(engine) as s:
        world = make_world(s)
        app = application_in(s, world, "in_review")
        reference = app.reference
    with Session(engine, info={SESSION_PUBLIC_URL_KEY: BASE}) as s:
        wf.fire(s, reference, "request_documents", world.reviewer, reason="Satzung fehlt",
                payload={"documents": ["Satzung"]})
        s.commit()
    with unit_of_work(engine) as s:
        mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "documents_requested")).one()
        link = f"{BASE}/antraege/{reference}/unterlagen"
        assert mail.context["link"] == link and link in mail.body_text and link in mail.body_html
        assert "Unterlagen nachreichen:" in mail.body_text
    assert public_url() == "http://127.0.0.1:8000"  # the default setting

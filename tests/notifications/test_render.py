"""Every email kind renders in German and English, text and HTML, and a gap in the data fails."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound, UndefinedError

from notifications.render import (
    ACCOUNT_TEMPLATES,
    LANGUAGES,
    TEMPLATE_DIR,
    TEMPLATES,
    Renderer,
    render,
)
from states import (
    CASE_OFFICER_EMAIL,
    EARLY_START_EMAIL,
    ESCALATION_EMAIL,
    FINAL_REPORT_EMAILS,
    FINALITY_EMAILS,
    FUNDING_STOP_EMAIL,
    FUNDING_STOP_LIFTED_EMAIL,
    INTERIM_REPORT_EMAILS,
    PAYMENT_EMAILS,
    REMINDER_EMAIL,
    SETTLEMENT_EMAILS,
    TRANSITIONS,
)
from tests.notifications.samples import REMINDER, sample_context

GERMAN_AMOUNT = re.compile(r"\d,\d\d\s€")
GREETING = {"de": "Guten Tag Jürgen Weiß,", "en": "Dear Jürgen Weiß,"}
NEXT = {"de": "Was Sie jetzt tun müssen", "en": "What you need to do"}


def test_every_email_kind_has_a_template_in_every_language() -> None:
    wanted = {t.email for t in TRANSITIONS if t.email} | {
        t.officer_email for t in TRANSITIONS if t.officer_email} | {
        FUNDING_STOP_EMAIL, FUNDING_STOP_LIFTED_EMAIL, REMINDER_EMAIL, ESCALATION_EMAIL,
        *INTERIM_REPORT_EMAILS, CASE_OFFICER_EMAIL, EARLY_START_EMAIL, *FINALITY_EMAILS,
        *PAYMENT_EMAILS, *SETTLEMENT_EMAILS, *FINAL_REPORT_EMAILS}
    assert set(TEMPLATES) == wanted
    for language in LANGUAGES:
        found = {p.stem for p in (TEMPLATE_DIR / language).glob("*.j2")}
        assert found == wanted | set(ACCOUNT_TEMPLATES), language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_renders_text_and_html(template: str, language: str) -> None:
    context = sample_context(template)
    email = render(template, language, context)

    assert context["reference"] in email.subject
    assert "\n" not in email.subject
    for part in (email.text, email.html):
        assert context["programme_name"] in part
        assert context["reference"] in part
        assert context["state_label"] in part
        assert NEXT[language] in part
        assert context["contact_email"] in part
    assert email.text.startswith(GREETING[language])
    # The HTML escapes what carriers typed; the text part shows it as it is.
    assert "Stadtteilmütter &lt;Schalke&gt; &amp; Söhne" in email.html
    assert "<Schalke>" not in email.html
    assert "Stadtteilmütter <Schalke> & Söhne" in email.text
    assert email.html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in email.html
    # The text part is wrapped for mail clients (URL-free sentences break at 76 characters).
    assert all(len(line) <= 100 for line in email.text.splitlines())


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_missing_variable_fails_the_render(template: str) -> None:
    context = sample_context(template)
    for key in ("reference", "title", "programme_name", "state_label"):
        broken = {k: v for k, v in context.items() if k != key}
        with pytest.raises(UndefinedError):
            render(template, "de", broken)


def test_a_template_with_an_unknown_variable_fails(tmp_path: Path) -> None:
    """StrictUndefined: a typo in a template is an error, never an empty string in a letter."""
    shutil.copytree(TEMPLATE_DIR, tmp_path / "templates")
    broken = tmp_path / "templates" / "de" / "approval.j2"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "{{ approved_total_cents|money }}", "{{ approved_totl|money }}", 1), encoding="utf-8")
    renderer = Renderer(tmp_path / "templates")
    with pytest.raises(UndefinedError, match="approved_totl"):
        renderer.render("approval", "de", sample_context("approval"))
    renderer.render("approval", "en", sample_context("approval"))  # the English one is intact


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(TemplateNotFound):
        render("no_such_email", "de", sample_context("approval"))


def test_unknown_language_falls_back_to_german() -> None:
    assert render("approval", "fr", sample_context("approval")).text.startswith("Guten Tag")


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_and_deadlines_in_the_recipients_language(language: str) -> None:
    email = render("approval", language, sample_context("approval"))
    text = " ".join(email.text.split())  # dates carry no-break spaces
    if language == "de":
        assert "02.05.2022" in text and "30.06.2023" in text
    else:
        assert "2 May 2022" in text and "30 June 2023" in text
    receipt = render("receipt_confirmation", language, sample_context("receipt_confirmation"))
    # 09:00 UTC on 2 November 2020 is 10:00 in Berlin.
    assert ("02.11.2020, 10:00 Uhr" if language == "de" else "2 November 2020, 10:00") in " ".join(
        receipt.text.split())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("step,days", [("before_28", 28), ("before_7", 7), ("due", 0),
                                       ("overdue", -7), ("escalation", -21)])
def test_reminder_steps(step: str, days: int, language: str) -> None:
    context = {**REMINDER, "step": step, "days": days}
    email = render("deadline_reminder", language, context)
    assert context["reference"] in email.subject
    if days < 0:
        assert "14" in email.text and "2023" in email.text  # the grace period's end
        assert ("Mahnung" if language == "de" else "Overdue notice") in email.subject
    escalation = render("deadline_escalation", language, {**context, "grace_until": ""})
    assert context["reference"] in escalation.subject


def test_no_repayment_claimed_when_it_is_zero() -> None:
    revoked = render("revocation", "de", {**sample_context("revocation"), "repayment_cents": 0})
    assert "Rückforderung wird nicht geltend gemacht" in revoked.text
    assert "Rückforderungsbetrag" not in revoked.html
    claimed = render("revocation", "de", sample_context("revocation"))
    assert "1.234,50 €" in claimed.text and "Rückforderungsbetrag" in claimed.html


def test_no_released_money_mentioned_when_none_is_released() -> None:
    closed = render("closure", "en", {**sample_context("closure"), "released_cents": 0})
    assert "Unspent money" not in closed.text
    released = render("closure", "en", sample_context("closure"))
    assert "Unspent money of €5,000.00" in " ".join(released.text.split())


@pytest.mark.parametrize("template,amounts", [
    ("approval", ["€95,000.00", "€50,000.00", "€45,000.00"]),
    ("closure", ["€5,000.00", "€45,000.00", "€40,000.00", "€0.00"]),
    ("revocation", ["€1,234.50"]),
])
def test_english_emails_show_english_money_and_dates(template: str, amounts: list[str]) -> None:
    context = {**sample_context(template), "years": [
        *sample_context(template)["years"],
        {"year": 2023, "requested_cents": 20_000_00, "approved_cents": 20_000_00,
         "spent_cents": 20_000_00}]}
    english = render(template, "en", context)
    german = render(template, "de", context)
    for part, german_part in ((english.text, german.text), (english.html, german.html)):
        flat = " ".join(part.split())
        for amount in amounts:
            assert amount in flat
        assert not GERMAN_AMOUNT.search(flat) and GERMAN_AMOUNT.search(german_part)
        if template != "revocation":
            assert "€20,000.00" in flat and "20.000,00 €" in " ".join(german_part.split())
        if template == "approval":  # the reporting deadlines
            assert "2 May 2022" in flat and "02.05.2022" in german_part

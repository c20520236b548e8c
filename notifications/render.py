"""Rendering emails from Jinja2 templates: one template per kind and language, text and HTML.

Each kind lives in `templates/<language>/<kind>.j2` and extends the one layout
`templates/layout.j2`.
The same template is rendered twice: once as plain text and once as HTML (autoescaped). A variable
the context lacks is an error (StrictUndefined), so a broken template fails the transition that
enqueues the email instead of sending a broken message.

Every transition renders its email inside its own database transaction, so rendering is kept
cheap (about 0.1 ms for text, HTML and subject): each template is compiled once, one environment
per language and variant lets the macro module run once instead of at every import, each block
is rendered once per variant, the subject comes out of the text render, and a few of Jinja's
general-purpose paths have exact shortcuts here (dict lookups, alignment), all through
Jinja's public hooks (filters, Environment.getattr). tests/notifications/test_render_helpers.py
holds each shortcut to what it replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_environment,
)
from jinja2.runtime import Context
from jinja2.utils import concat

from notifications import formatting
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
from states.accounts import ACCOUNT_EMAILS

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"

# Every email kind Quartier sends; each needs a template in every language.
TEMPLATES: tuple[str, ...] = tuple(dict.fromkeys(
    [t.email for t in TRANSITIONS if t.email]
    + [t.officer_email for t in TRANSITIONS if t.officer_email]
    + [FUNDING_STOP_EMAIL, FUNDING_STOP_LIFTED_EMAIL, REMINDER_EMAIL, ESCALATION_EMAIL]
    + list(INTERIM_REPORT_EMAILS) + [CASE_OFFICER_EMAIL, EARLY_START_EMAIL]
    + list(FINALITY_EMAILS) + list(PAYMENT_EMAILS) + list(SETTLEMENT_EMAILS)
    + list(FINAL_REPORT_EMAILS)))
# The emails about an account, not an application (templates on `account_layout.j2`).
ACCOUNT_TEMPLATES: tuple[str, ...] = ACCOUNT_EMAILS


@dataclass(frozen=True)
class RenderedEmail:
    """The fixed content of one email."""

    subject: str
    text: str
    html: str


def language_of(language: str | None) -> str:
    """The recipient's language if Quartier speaks it, else German."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@pass_environment
def _of_kind(environment: Environment, deadlines: Any, *kinds: str) -> list[Any]:
    """deadlines|of_kind("a", "b"): the deadlines of those kinds, in their order. What
    deadlines|selectattr("kind", "in", ["a", "b"])|list gives, without a test call per deadline."""
    return [deadline for deadline in deadlines if environment.getitem(deadline, "kind") in kinds]


@pass_environment
def _widest_label(environment: Environment, rows: Any) -> Any:
    """The length of the longest label of (label, value) rows: what
    rows|map("first")|map("length")|max gives, without three generic filters per call."""
    lengths = [len(label) for label, _ in rows]
    if not lengths:
        return environment.undefined("No aggregated item, sequence was empty.")
    return max(lengths)


@pass_environment
def _ljust(environment: Environment, value: Any, width: int) -> Any:
    """value|ljust(n): `value.ljust(n)` as a filter, a plain call instead of Context.call."""
    return environment.getattr(value, "ljust")(width)


@pass_environment
def _rjust(environment: Environment, value: Any, width: int) -> Any:
    """value|rjust(n): `value.rjust(n)` as a filter."""
    return environment.getattr(value, "rjust")(width)


_ASCII_SPACE = re.compile(r"[ \t\r\n]+")


def _reflow(value: Any) -> Any:
    """One line per paragraph: the template's own line breaks do not survive into the text."""
    return type(value)(_ASCII_SPACE.sub(" ", str(value)).strip())


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's Environment, with a cheaper `{{ mapping.key }}`.

    Jinja's getattr tries getattr(obj, name) first and falls back to obj[name]. A plain dict (the
    labels, the years, the deadlines) has no attribute but those of its type; for any other name
    that getattr raises an AttributeError, which costs ten times the lookup. Going to obj[name]
    at once gives the same result.
    """


    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is not dict or attribute in _DICT_ATTRIBUTES:
            try:  # Environment.getattr from here on
                return getattr(obj, attribute)
            except AttributeError:
                pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


def _environment(html: bool, language: str, directory: Path) -> Environment:
    """One environment per language and variant, so `html` and `language` are globals.

    The macros read them as globals, so macros.j2 runs once per environment (not at every
    import "with context", as it did four times per email); its module is the global `macros`.
    """
    env = _Environment(
        loader=FileSystemLoader(str(directory)),
        # The templates ship with the package: load each once, never stat it again per email.
        auto_reload=False,
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.do"],
    )
    # Money (integer cents), dates and timestamps as the environment's language writes them.
    env.filters["money"], env.filters["day"], env.filters["moment"] = formatting.formatters(
        language)
    env.filters["reflow"] = _reflow
    env.filters["of_kind"] = _of_kind
    env.filters["widest_label"] = _widest_label
    env.filters["ljust"] = _ljust
    env.filters["rjust"] = _rjust
    env.globals["html"] = html
    env.globals["language"] = language
    return env


class Renderer:
    """Renders an email kind in a language; one instance per template directory."""

    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self.environments = {(language, html): _environment(html, language, directory)
                             for language in LANGUAGES for html in (False, True)}
        self._templates: dict[tuple[str, str], tuple[_Variant, _Variant]] = {}

    def _variants(self, template: str, language: str) -> tuple[_Variant, _Variant]:
        """The text and the HTML variant of a kind in a language, loaded and compiled once."""
        variants = self._templates.get((template, language))
        if variants is None:
            pair = []
            for html in (False, True):
                env = self.environments[language, html]
                if "macros" not in env.globals:  # the macro module, run once per environment
                    env.globals["macros"] = env.get_template("macros.j2").module
                compiled = env.get_template(f"{language}/{template}.j2")
                pair.append(_Variant(compiled, dict(compiled.globals)))
            variants = self._templates[template, language] = (pair[0], pair[1])
        return variants

    def render(self, template: str, language: str, context: dict[str, Any]) -> RenderedEmail:
        language = language_of(language)
        text, html = self._variants(template, language)
        text_context = text.context({**context, "language": language, "html": False})
        text_body = text.render(text_context)
        # The layout leaves the subject line in the text render's context.
        subject = " ".join(text_context.vars["subject_line"].split())
        html_body = html.render(html.context({**context, "language": language, "html": True}))
        return RenderedEmail(subject=subject, text=_tidy_text(text_body),
                             html=html_body.strip() + "\n")


@dataclass(frozen=True)
class _Variant:
    """One compiled template and the globals its renders start from."""

    template: Template
    globals: dict[str, Any]

    def context(self, variables: dict[str, Any]) -> Context:
        """What Template.render would create: the globals, overridden by the variables. Shared,
        because the merge happens here, in one step, instead of through Jinja's ChainMap."""
        return self.template.new_context({**self.globals, **variables}, shared=True)

    def render(self, context: Context) -> str:
        """Template.render with a context the caller keeps."""
        try:
            return concat(self.template.root_render_func(context))
        except Exception:
            return self.template.environment.handle_exception()


_EMPTY_LINES = re.compile(r"\n\n\n+")  # not \n{3,}: a literal prefix lets re scan fast


def _tidy_text(text: str) -> str:
    """No trailing blanks, at most one empty line in a row, one newline at the end."""
    # "-- " (with its blank) is the signature separator mail clients recognise.
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    # The first and the last line are not empty (the text is stripped), so a run of empty lines
    # is three newlines or more in a row.
    return _EMPTY_LINES.sub("\n\n", "\n".join(lines)) + "\n"


_DEFAULT = Renderer()


def render(template: str, language: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one email kind with the packaged templates (StrictUndefined: a gap is an error)."""
    return _DEFAULT.render(template, language, context)

"""The portal's languages: gettext catalogs (Babel), German msgids, English in
`api/locale/en/LC_MESSAGES/*.po`; every catalog file of a language is merged at start, so each
area of the portal keeps its own file. Money, dates and state labels by the same language."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from markupsafe import Markup

from notifications import formatting
from states import STATE_LABELS, State

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LANGUAGE_COOKIE = "quartier_lang"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> _gettext.NullTranslations:
    """The merged catalog of `language` (German needs none: its msgids are the text)."""
    merged: _gettext.NullTranslations = _gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    if language == DEFAULT_LANGUAGE or not folder.is_dir():
        return merged
    found: Translations | None = None
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        found = part if found is None else found.merge(part)
    return found or merged


def gettext(language: str, message: str, **values: Any) -> str:
    text = translations(language).gettext(message)
    return text % values if values else text


def markup_gettext(language: str) -> Callable[..., Markup]:
    """The templates' `_(message, **values)`: the translation as Markup (translations are
    trusted like templates), each value escaped, `%` formatting always applied (like jinja2's
    newstyle gettext); translations looked up once per message."""
    catalog = translations(language)
    known: dict[str, Markup] = {}

    def gettext_(message: str, **values: Any) -> Markup:
        text = known.get(message)
        if text is None:
            text = known[message] = Markup(catalog.gettext(message))
        return text % values

    return gettext_


def request_language(request: Request) -> str:
    """The user's language when logged in, else the chosen one (cookie), else Accept-Language."""
    chosen = getattr(request.state, "portal_language", None)
    if chosen in LANGUAGES:
        return chosen
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    from api.errors import language
    return language(request)


def _(request: Request, message: str, **values: Any) -> str:
    """`message` (German) in the request's language; `%(name)s` placeholders from `values`."""
    return gettext(request_language(request), message, **values)


def filters(language: str) -> dict[str, Any]:
    """Jinja filters of one language: money (cents), euros (a decimal text such as the finance
    plan's "55000.00"), day, moment, state_label."""

    def money(cents: int | None) -> str:
        return "–" if cents is None else formatting.money(int(cents), language)

    def euros(amount: str | Decimal | None) -> str:
        if amount is None or amount == "":
            return "–"
        try:
            cents = (Decimal(str(amount)) * 100).to_integral_value()
        except InvalidOperation:
            return str(amount)
        return formatting.money(int(cents), language)

    def day(value: date | datetime | str | None) -> str:
        return "–" if value is None else formatting.day(value, language)

    def moment(value: datetime | str | None) -> str:
        return "–" if value is None else formatting.moment(value, language)

    def state_label(state: str) -> str:
        label = STATE_LABELS[State(state)]
        return label.de if language == "de" else label.en

    return {"money": money, "euros": euros, "day": day, "moment": moment,
            "state_label": state_label}

"""Every text the portal shows goes through one catalog: each message in the templates and in
the page code (`_()`, `gettext`, `_msg`) has its English translation in
`api/locale/en/LC_MESSAGES/*.po`, so an English-speaking carrier never meets a German label."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
OPTIONS = {"api/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                     "lstrip_blocks": "true"}}
# Templates call `_("Text")`; the page code `_(request, "Text")` and `gettext(language,
# "Text")`, and marks texts translated later with `_msg("Text")`.
SOURCES = (
    ([("api/templates/**.html", "jinja2")], {"_": None, "gettext": None}),
    ([("api/portal/**.py", "python")], {"_": (2,), "gettext": (2,), "_msg": None}),
)


def english_ids() -> set[str]:
    found: set[str] = set()
    for po in (ROOT / "api" / "locale" / "en" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as source:
            found |= {m.id for m in read_po(source, locale="en") if m.id and m.string}
    return found


def portal_messages() -> dict[str, str]:
    """msgid -> where it is first used."""
    found: dict[str, str] = {}
    for methods, keywords in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(ROOT), methods, options_map=OPTIONS, keywords=keywords):
            text = message[0] if isinstance(message, tuple) else message
            if text and re.search(r"[A-Za-zÄÖÜäöüß]", text):
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_portal_text_has_its_english_translation() -> None:
    messages = portal_messages()
    assert len(messages) > 300  # the extraction found the portal's texts
    known = english_ids()
    missing = {m: where for m, where in messages.items() if m not in known}
    assert not missing, "\n".join(f"{where}: {m!r}" for m, where in sorted(
        missing.items(), key=lambda item: item[1]))

"""Written notices (Bescheide) and the application as tagged, accessible PDF (PDF/UA-1).

Each notice is a Jinja template in `templates/notices/<kind>.html.j2` (German: a Bescheid is
issued in the official language), rendered to HTML with `lang="de"` and set by WeasyPrint with
Debian's DejaVu fonts: no web fonts, nothing is loaded from the network. A variable the context
lacks is an error (StrictUndefined), as for the emails.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications import formatting

NOTICE_TEMPLATE_DIR = Path(__file__).parent / "templates" / "notices"
PDF_VARIANT = "pdf/ua-1"  # tagged PDF with a structure tree, document language and title


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    """A notice loads nothing: every style and font is local (a URL in a template is a bug)."""
    raise ValueError(f"notices load no external resources: {url}")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(NOTICE_TEMPLATE_DIR), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    # An amount never breaks before its euro sign.
    env.filters["money"] = lambda cents: formatting.money(int(cents), "de").replace(
        " €", "\u00a0€")
    env.filters["day"] = lambda value: formatting.day(value, "de")
    return env


@lru_cache(maxsize=1)
def _fonts() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_html(kind: str, context: dict[str, Any]) -> str:
    """The notice's HTML (what the PDF shows)."""
    return _environment().get_template(f"{kind}.html.j2").render(context)


def render_pdf(kind: str, context: dict[str, Any]) -> bytes:
    """The notice as PDF/UA-1 bytes."""
    # Imported here: WeasyPrint loads pango and its fonts, which only rendering needs.
    from weasyprint import HTML

    html = render_html(kind, context)
    document = HTML(string=html, base_url=str(NOTICE_TEMPLATE_DIR), url_fetcher=_no_fetch)
    return document.write_pdf(pdf_variant=PDF_VARIANT, font_config=_fonts(),
                              uncompressed_pdf=False)

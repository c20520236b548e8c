"""Rewrite the Mermaid block of README.md from the transition table (`make diagram-readme`)."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from states.diagram import mermaid  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- diagram:start -->\n```mermaid\n).*?(```\n<!-- diagram:end -->)", re.S)


def rendered(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + mermaid() + m.group(2), text)


if __name__ == "__main__":
    README.write_text(rendered(README.read_text("utf-8")), "utf-8")

"""SMTP handlers for tests: the mail catcher, refusing some recipients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notifications.catcher import CatcherHandler


class RefusingHandler(CatcherHandler):
    """The catcher, answering `reply` to RCPT for recipients that start with `prefix`."""

    def __init__(self, directory: Path, prefix: str, reply: str) -> None:
        super().__init__(directory)
        self.prefix, self.reply = prefix, reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.startswith(self.prefix):
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

"""SMTP delivery with aiosmtplib: one connection per batch, one MIME message per outbox row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, BinaryIO, Protocol

import aiosmtplib

from notifications.outbox import aware


class Mail(Protocol):
    """What sending needs of an outbox row (an `OutboxMessage`, or a claimed row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def recipient(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def context(self) -> dict[str, Any]: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def body_text(self) -> str | None: ...
    @property
    def body_html(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def message_id(self) -> str: ...


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send (the caller builds it, e.g. from QUARTIER_SMTP_* settings).

    `starttls`: None upgrades with STARTTLS whenever the server offers it, True requires it,
    False never tries. `auth_requires_tls`: credentials are sent only over TLS (implicit or
    STARTTLS); without TLS the batch is not sent and waits, with the reason in its error.
    """

    host: str
    port: int
    starttls: bool | None = None
    tls: bool = False
    username: str | None = None
    password: str | None = None
    mail_from: str = "Quartier <noreply@quartier.localhost>"
    ca_file: str | None = None
    timeout: float = 30.0
    auth_requires_tls: bool = True


@dataclass(frozen=True)
class SendResult:
    """What happened to one message: sent, or an error that is temporary or permanent."""

    outbox_id: int
    sent: bool
    error: str | None = None
    permanent: bool = False


# Opens a stored file by its SHA-256 checksum (the document store's `open`).
OpenAttachment = Callable[[str], BinaryIO]


class AttachmentMissing(Exception):
    """An attachment the row names cannot be read from the store (or no store was given)."""


def build_message(row: Mail, mail_from: str,
                  open_attachment: OpenAttachment | None = None) -> EmailMessage:
    """multipart/alternative (text, then HTML), UTF-8, with the row's stable Message-ID; with
    the row's attachments (read from the store through `open_attachment`) multipart/mixed."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject or ""
    message["Date"] = format_datetime(aware(row.created_at))
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Quartier-Template"] = row.template
    reference = (row.context or {}).get("reference")
    if reference:
        message["X-Quartier-Reference"] = str(reference)
    message.set_content(row.body_text or "", subtype="plain", charset="utf-8",
                        cte="quoted-printable")
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html", charset="utf-8",
                                cte="quoted-printable")
    for attachment in getattr(row, "attachments", None) or ():
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(_read_attachment(attachment["sha256"], open_attachment),
                               maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment["filename"])
    message["Content-Language"] = row.language  # after the body: set_content drops Content-*
    return message


def _read_attachment(sha256: str, open_attachment: OpenAttachment | None) -> bytes:
    if open_attachment is None:
        raise AttachmentMissing(f"no document store to read attachment {sha256} from")
    try:
        with open_attachment(sha256) as stream:
            return stream.read()
    except (OSError, ValueError) as error:
        raise AttachmentMissing(f"attachment {sha256} not readable: {error}") from error


class ClearTextAuthRefused(aiosmtplib.SMTPException):
    """Credentials would go over an unencrypted connection: refused, nothing is sent."""


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about this message (recipient, content) will not change on retry.

    A refused sender is our configuration, not the message: it retries like a 4xx or a
    network error, until the attempts run out.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(r.code >= 500 for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return False
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 500 <= error.code < 600
    return False


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


async def send_batch(config: SmtpConfig, rows: Sequence[Mail],
                     on_result: Callable[[SendResult], None],
                     before_send: Callable[[int], Awaitable[bool]] | None = None,
                     open_attachment: OpenAttachment | None = None,
                     ) -> list[SendResult]:
    """Send `rows` over one SMTP connection; `on_result` records each outcome at once.

    Attachments are read through `open_attachment` (a missing one: that row fails and retries).

    `before_send(i)` is awaited before `rows[i]` goes out (the worker renews its lease there);
    False skips that row, which then has no result.
    """
    results: list[SendResult] = []

    def record(result: SendResult) -> None:
        results.append(result)
        on_result(result)

    # Logged in by hand after connecting: first it must be known whether the line is encrypted.
    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, use_tls=config.tls,
                           start_tls=config.starttls, timeout=config.timeout,
                           cert_bundle=config.ca_file)
    try:
        await smtp.connect()
        if config.username is not None:
            if config.auth_requires_tls and smtp.get_transport_info("sslcontext") is None:
                raise ClearTextAuthRefused(
                    "SMTP-Anmeldung nur über TLS: der Server bietet kein STARTTLS an, die "
                    "Zugangsdaten werden nicht im Klartext gesendet (QUARTIER_SMTP_TLS oder "
                    "einen Server mit STARTTLS verwenden). / SMTP AUTH only over TLS: the "
                    "server offers no STARTTLS; credentials are not sent in clear text.")
            await smtp.login(config.username, config.password or "")
    except (aiosmtplib.SMTPException, OSError) as error:
        # Not the messages' fault (server away, TLS or login wrong): all of them retry later.
        smtp.close()
        for row in rows:
            record(SendResult(row.id, False, f"Verbindung fehlgeschlagen: {_describe(error)}"))
        return results
    try:
        for index, row in enumerate(rows):
            if before_send is not None and not await before_send(index):
                continue
            try:
                message = build_message(row, config.mail_from, open_attachment)
            except AttachmentMissing as error:
                record(SendResult(row.id, False, _describe(error)))
                continue
            try:
                await smtp.send_message(message)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                    aiosmtplib.SMTPTimeoutError, OSError) as error:
                # The connection is gone: this and every later message of the batch wait.
                for rest in rows[index:]:
                    record(SendResult(rest.id, False, _describe(error)))
                return results
            except aiosmtplib.SMTPException as error:
                record(SendResult(row.id, False, _describe(error), _is_permanent(error)))
                continue
            record(SendResult(row.id, True))
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
    return results

"""Settings from `QUARTIER_*` environment variables (and an optional `.env` file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.sender import SmtpConfig
from notifications.worker import (
    DEFAULT_RETRY_SCHEDULE,
    DeliveryConfig,
    InvalidRetrySchedule,
    parse_retry_schedule,
)
from workflow.storage import FileStore

# The secret every install once shared by default: refused everywhere, in development too.
OLD_PUBLIC_SECRET = "change-me-development-only"
MIN_SECRET_BYTES = 32
SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUARTIER_", env_file=".env", extra="ignore")

    environment: str = "development"  # development | production
    database_url: str = "sqlite:///var/quartier.sqlite3"

    # Secrets, logins and the data directory. Without QUARTIER_SECRET_KEY the key is generated
    # once into {data_dir}/secret_key and shared by every worker and every later start.
    data_dir: str = "var"
    secret_key: str | None = None
    token_lifetime_minutes: int = 60
    login_window_seconds: int = 900  # failed logins count for this long ...
    login_failures_per_account: int = 10  # ... and after this many the account waits (429)
    login_failures_per_address: int = 10  # ... and so does the client address (0: no limit)

    # The portal's address as carriers reach it: the base of every link in an email.
    public_url: str = "http://127.0.0.1:8000"
    # How long a one-time link is valid: choosing the first password (a confirmed registration,
    # an invitation), and resetting a forgotten one (hours).
    onboarding_link_hours: float = 72.0
    password_reset_link_hours: float = 2.0

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not (value.startswith("http://") or value.startswith("https://")) or " " in value:
            raise ValueError("QUARTIER_PUBLIC_URL: eine absolute http(s)-Adresse, z. B. "
                             "https://foerderung.example.org / an absolute http(s) address")
        return value

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool | None = None  # None: if the server offers it; true: required; false: never
    smtp_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: str | None = None  # CA bundle to verify the SMTP server's certificate
    mail_from: str = "Quartier <noreply@quartier.localhost>"
    mail_lease_seconds: int = 120
    mail_catcher_dir: str = "var/mail"
    mail_batch_size: int = 50
    mail_poll_seconds: float = 2.0  # how often `quartier worker` looks for due messages
    # The waits after the 1st, 2nd, ... failed attempt (s, m, h, d); a mail is dead only when
    # the attempt after the last one failed. The default spans 4 days 3 hours 51 minutes.
    mail_retry_schedule: str = DEFAULT_RETRY_SCHEDULE

    @field_validator("mail_retry_schedule")
    @classmethod
    def _readable_retry_schedule(cls, value: str) -> str:
        try:
            parse_retry_schedule(value)
        except InvalidRetrySchedule as error:
            raise ValueError(f"QUARTIER_MAIL_RETRY_SCHEDULE: {error}") from None
        return value

    # HTTP: the largest request body (bytes), and outside development whether admins may read
    # /openapi.json with a bearer token (/docs and /redoc are off outside development).
    max_body_bytes: int = 1024 * 1024
    openapi_for_admins: bool = False

    # Under load: a request waits at most db_pool_timeout_seconds for one of the
    # db_pool_size + db_max_overflow connections, and at most db_lock_timeout_seconds for a lock,
    # then gets 503 with Retry-After. `threads`, the thread pool of sync endpoints, should be at
    # least the connections, so that a request holding a connection also gets a thread.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 5.0
    db_lock_timeout_seconds: float = 10.0  # SQLite's busy timeout, PostgreSQL's lock_timeout
    threads: int = 40
    idempotency_retention_hours: float = 24.0  # stored responses older than this are deleted

    # Documents (the case files): the content-addressed store's folder, by default
    # {data_dir}/documents.
    documents_dir: str | None = None

    # Uploads (workflow.uploads): the largest file and the most an application's uploads may
    # hold together (bytes), the types allowed (detected from the content), the virus scanner
    # (clamd: a unix socket path or host:port) and, outside development, whether uploads are
    # taken while no scanner is configured. Blobs no document names are swept after the grace.
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_max_bytes_per_application: int = 200 * 1024 * 1024
    upload_allowed_types: list[str] = [
        "application/pdf", "image/png", "image/jpeg",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
    clamd_socket: str | None = None
    clamd_timeout_seconds: float = 60.0
    uploads_without_scanner: bool = False
    orphan_grace_hours: float = 24.0

    # The paying office (Zahlstelle): the debtor of the SEPA credit-transfer files (issue 16).
    paying_office_name: str = "Landeskasse NRW"
    paying_office_iban: str | None = None
    paying_office_bic: str | None = None

    def smtp(self) -> SmtpConfig:
        """The SMTP server for notifications' sender."""
        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, starttls=self.smtp_starttls,
                          tls=self.smtp_tls, username=self.smtp_username or None,
                          password=self.smtp_password or None, mail_from=self.mail_from,
                          ca_file=self.smtp_ca_file or None,
                          auth_requires_tls=self.environment != "development")

    def delivery(self) -> DeliveryConfig:
        """Delivery of the outbox (notifications.worker): SMTP, leases, batches, retries."""
        return DeliveryConfig(smtp=self.smtp(), lease_seconds=self.mail_lease_seconds,
                              batch_size=self.mail_batch_size,
                              retry_schedule=parse_retry_schedule(self.mail_retry_schedule),
                              poll_seconds=self.mail_poll_seconds,
                              open_attachment=self.document_store().open)


    def document_store(self) -> FileStore:
        """The store of document contents (workflow.storage)."""
        return FileStore(self.documents_dir or Path(self.data_dir) / "documents")

    def signing_secret(self) -> str:
        """The secret that signs the bearer tokens: QUARTIER_SECRET_KEY, or the data directory's
        generated key."""
        if self.secret_key:
            return self.secret_key
        return stored_secret(self.data_dir)


class InsecureSettings(RuntimeError):
    """The server refuses to start: a public, short or unreadable secret key."""


_HOW = ("QUARTIER_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))') "
        "setzen oder weglassen (dann erzeugt Quartier einen Schlüssel im Datenverzeichnis) / "
        "set it so, or leave it unset (Quartier then generates one in the data directory).")


def check_settings(settings: Settings) -> None:
    """Refuse to serve with the old public secret anywhere, outside development with a secret
    under 32 bytes; otherwise make sure the key exists (generated once if none is set)."""
    key = settings.secret_key
    if key is not None and key.strip() == OLD_PUBLIC_SECRET:
        raise InsecureSettings(
            "Quartier startet nicht: QUARTIER_SECRET_KEY ist der früher öffentliche "
            "Standardwert.\nQuartier refuses to start: QUARTIER_SECRET_KEY is the formerly "
            f"public default.\n{_HOW}")
    if (key is not None and settings.environment != "development"
            and len(key.encode()) < MIN_SECRET_BYTES):
        raise InsecureSettings(
            f"Quartier startet nicht: QUARTIER_ENVIRONMENT={settings.environment}, aber "
            f"QUARTIER_SECRET_KEY hat weniger als {MIN_SECRET_BYTES} Bytes.\n"
            f"Quartier refuses to start: QUARTIER_ENVIRONMENT={settings.environment} with a "
            f"QUARTIER_SECRET_KEY shorter than {MIN_SECRET_BYTES} bytes.\n{_HOW}")
    if key is not None and not key:
        raise InsecureSettings("Quartier startet nicht: QUARTIER_SECRET_KEY ist leer.\n"
                               f"Quartier refuses to start: QUARTIER_SECRET_KEY is empty.\n{_HOW}")
    try:
        settings.signing_secret()
    except OSError as error:
        raise InsecureSettings(
            f"Quartier startet nicht: der Schlüssel in {settings.data_dir}/{SECRET_KEY_FILE} "
            f"ist nicht les- oder anlegbar ({error}).\nQuartier refuses to start: cannot read "
            f"or create the key in {settings.data_dir}/{SECRET_KEY_FILE} ({error}).") from None


@lru_cache(maxsize=8)
def stored_secret(directory: str) -> str:
    """The key in `directory/secret_key`, created once (mode 0600, atomically: every worker and
    every later start reads the same key)."""
    data_dir = Path(directory)
    path = data_dir / SECRET_KEY_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)  # fails if another process was first: then take its key
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    key = path.read_text("utf-8").strip()
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise OSError(f"{path}: shorter than {MIN_SECRET_BYTES} bytes")
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()

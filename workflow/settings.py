"""Settings from `QUARTIER_*` environment variables (and an optional `.env` file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.sender import SmtpConfig
from notifications.worker import DeliveryConfig

DEFAULT_SECRET = "change-me-development-only"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUARTIER_", env_file=".env", extra="ignore")

    environment: str = "development"  # development | production
    database_url: str = "sqlite:///var/quartier.sqlite3"
    secret_key: str = DEFAULT_SECRET
    token_lifetime_minutes: int = 60

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool | None = None  # None: if the server offers it; true: required; false: never
    smtp_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: str | None = None  # CA bundle to verify the SMTP server's certificate
    mail_from: str = "Quartier <noreply@quartier.localhost>"
    mail_max_attempts: int = 8
    mail_lease_seconds: int = 120
    mail_catcher_dir: str = "var/mail"
    mail_batch_size: int = 50
    mail_retry_base_seconds: float = 30.0  # first retry after about this long, then doubling
    mail_retry_max_seconds: float = 6 * 3600.0
    mail_poll_seconds: float = 2.0  # how often `quartier worker` looks for due messages

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

    def smtp(self) -> SmtpConfig:
        """The SMTP server for notifications' sender."""
        return SmtpConfig(host=self.smtp_host, port=self.smtp_port, starttls=self.smtp_starttls,
                          tls=self.smtp_tls, username=self.smtp_username or None,
                          password=self.smtp_password or None, mail_from=self.mail_from,
                          ca_file=self.smtp_ca_file or None,
                          auth_requires_tls=self.environment != "development")

    def delivery(self) -> DeliveryConfig:
        """Delivery of the outbox (notifications.worker): SMTP, leases, batches, retries."""
        return DeliveryConfig(smtp=self.smtp(), max_attempts=self.mail_max_attempts,
                              lease_seconds=self.mail_lease_seconds,
                              batch_size=self.mail_batch_size,
                              retry_base_seconds=self.mail_retry_base_seconds,
                              retry_max_seconds=self.mail_retry_max_seconds,
                              poll_seconds=self.mail_poll_seconds)


class InsecureSettings(RuntimeError):
    """The server refuses to start, e.g. outside development with the default secret key."""


def check_settings(settings: Settings) -> None:
    """Refuse to serve outside development with the default (public) secret key."""
    if settings.environment != "development" and settings.secret_key == DEFAULT_SECRET:
        raise InsecureSettings(
            f"Quartier startet nicht: QUARTIER_ENVIRONMENT={settings.environment}, aber "
            "QUARTIER_SECRET_KEY ist der öffentlich bekannte Standardwert. Bitte einen geheimen "
            "Schlüssel setzen, z. B. QUARTIER_SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))').\n"
            f"Quartier refuses to start: QUARTIER_ENVIRONMENT={settings.environment} with the "
            "default QUARTIER_SECRET_KEY. Set a secret key.")


@lru_cache
def get_settings() -> Settings:
    return Settings()

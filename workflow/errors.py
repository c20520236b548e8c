"""Domain errors: each carries its HTTP status, a stable type and the reason in German and English.
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """A refusal. Nothing was written when one of these is raised."""

    status: int = 400
    type: str = "workflow-error"
    title: str = "Vorgang abgelehnt"

    def __init__(self, de: str, en: str, **extra: Any) -> None:
        super().__init__(de)
        self.de = de
        self.en = en
        self.extra = extra

    def message(self, language: str = "de") -> str:
        return self.en if language == "en" else self.de

    def as_dict(self, language: str = "de") -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "detail": self.message(language),
            **self.extra,
        }


class NotFound(WorkflowError):
    status, type, title = 404, "not-found", "Nicht gefunden"


class NotAuthenticated(WorkflowError):
    status, type, title = 401, "not-authenticated", "Nicht angemeldet"


class NotPermitted(WorkflowError):
    status, type, title = 403, "not-permitted", "Keine Berechtigung"


class FourEyesViolation(NotPermitted):
    type = "four-eyes"


class UnknownTrigger(WorkflowError):
    status, type, title = 422, "unknown-trigger", "Unbekannte Aktion"


class WrongState(WorkflowError):
    status, type, title = 409, "wrong-state", "Im aktuellen Status nicht möglich"


class StaleVersion(WorkflowError):
    status, type, title = 409, "stale-version", "Der Antrag wurde inzwischen geändert"


class FundingStopInForce(WorkflowError):
    status, type, title = 409, "funding-stop", "Fördermittelstopp"


class CallWindowClosed(WorkflowError):
    status, type, title = 409, "call-window-closed", "Einreichungsfrist"


class InsufficientFunds(WorkflowError):
    status, type, title = 409, "insufficient-funds", "Keine Mittel mehr verfügbar"


class InvalidInput(WorkflowError):
    status, type, title = 422, "invalid-input", "Ungültige Eingabe"


class Incomplete(InvalidInput):
    type = "incomplete"


class GuardFailed(WorkflowError):
    status, type, title = 409, "guard-failed", "Voraussetzung nicht erfüllt"


class Conflict(WorkflowError):
    status, type, title = 409, "conflict", "Konflikt"


class InvalidLink(WorkflowError):
    """A one-time link that is unknown, used already or expired."""

    status, type, title = 410, "invalid-link", "Link ungültig"


class PasswordChangeRequired(NotPermitted):
    """After an admin reset: the account may log in, but only to change its password."""

    type, title = "password-change-required", "Passwort muss geändert werden"


class TooManyLoginAttempts(WorkflowError):
    """Too many failed logins for an account or from an address within the window."""

    status, type, title = 429, "too-many-login-attempts", "Zu viele Anmeldeversuche"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"Zu viele fehlgeschlagene Anmeldungen. Bitte in {minutes} Minute(n) erneut "
            "versuchen.",
            f"Too many failed logins. Please try again in {minutes} minute(s).",
            retry_after=retry_after)
        self.retry_after = retry_after


class LoginFailed(NotAuthenticated):
    """Wrong email or password, or a disabled account: one answer for all three; `reason` is
    for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__("E-Mail-Adresse oder Passwort ist falsch, oder das Konto ist gesperrt.",
                         "Wrong email or password, or the account is disabled.")
        self.reason = reason

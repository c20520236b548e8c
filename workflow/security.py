"""Password hashing (Argon2) and the password policy (length, and zxcvbn's estimate of how
guessable a password is, from its lists of the most common passwords, words and names)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from workflow.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000
# zxcvbn's score 3 ("safely unguessable: moderate protection from offline slow-hash scenario",
# about 10^8 guesses and more); 0 to 2 are common passwords, words, names, keyboard walks,
# dates and their small variations.
MIN_ZXCVBN_SCORE = 3
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn's own limit; what lies beyond adds strength but is not scored
# Words of this application that make a password guessable here in particular.
_OUR_WORDS = ("quartier", "ziq", "demo", "foerderung", "förderung", "antrag", "zusammen")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a short or common password (InvalidInput with the reason in German and English)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen haben.",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Das Passwort darf höchstens {MAX_PASSWORD_LENGTH} Zeichen haben.",
            f"The password may have at most {MAX_PASSWORD_LENGTH} characters.", field="password")
    personal = [part for part in (email, email.partition("@")[0], name, *name.split()) if part]
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[*personal, *_OUR_WORDS])
    if result["score"] < MIN_ZXCVBN_SCORE:
        warning = result["feedback"].get("warning") or "It is easy to guess."
        raise InvalidInput(
            "Das Passwort ist zu leicht zu erraten (ein häufiges Passwort, ein Wort oder Name, "
            "eine Tastaturfolge oder Teile von Name oder E-Mail-Adresse). Bitte ein längeres, "
            "selteneres wählen, z. B. mehrere zufällige Wörter.",
            f"The password is too easy to guess: {warning} Choose a longer, less common one, "
            "e.g. several random words.", field="password")


def one_time_password() -> str:
    """A random password for an admin reset (about 120 bits), to be changed at the next login."""
    return secrets.token_urlsafe(15)

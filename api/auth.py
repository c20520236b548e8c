"""Bearer tokens (JWT, HS256) for users who logged in with email and password."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from sqlmodel import Session, select

from workflow.errors import NotAuthenticated
from workflow.models import User
from workflow.security import hash_password, verify_password
from workflow.settings import Settings

ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the email is unknown, so both failures take about the same time.
    return hash_password("quartier-no-such-user")


@lru_cache(maxsize=8)
def _key_for(secret_key: str) -> bytes:
    return hashlib.sha256(b"quartier-access-token:" + secret_key.encode()).digest()


def _signing_key(settings: Settings) -> bytes:
    # A fixed-length key derived from the configured secret (HS256 wants at least 32 bytes).
    return _key_for(settings.secret_key)


# Tokens whose signature and claims were checked: (token, key) -> (user id, expiry as a Unix
# time). A token's validity depends on nothing else, so a hit needs only the expiry compared;
# whether the user may still log in is checked in the database on every request (current_user).
_VERIFIED: dict[tuple[str, bytes], tuple[int, float]] = {}
_VERIFIED_MAX = 4096


def create_access_token(user: User, settings: Settings, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {"sub": str(user.id), "iat": now,
              "exp": now + timedelta(minutes=settings.token_lifetime_minutes), "typ": "access"}
    return jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM)


def user_id_from_token(token: str, settings: Settings) -> int:
    """The user id in a valid, unexpired token; NotAuthenticated otherwise."""
    key = _signing_key(settings)
    known = _VERIFIED.get((token, key))
    if known is not None and time.time() < known[1]:
        return known[0]
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub"]})
        if claims.get("typ") != "access":
            raise jwt.InvalidTokenError("wrong token type")
        user_id = int(claims["sub"])
        expires = float(claims["exp"])
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Die Anmeldung ist abgelaufen. Bitte erneut anmelden.",
                               "The login has expired. Please log in again.") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise NotAuthenticated("Ungültiges Zugangstoken. Bitte erneut anmelden.",
                               "Invalid access token. Please log in again.") from None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[token, key] = (user_id, expires)
    return user_id


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with this email and password; one message for every failure."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        user = session.exec(select(User).where(User.email == email.strip())).first()
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or user.disabled:
        raise NotAuthenticated("E-Mail-Adresse oder Passwort ist falsch, oder das Konto ist "
                               "gesperrt.",
                               "Wrong email or password, or the account is disabled.")
    return user

"""Bearer tokens (JWT, HS256) for users who logged in with email and password, and the login
throttle."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import jwt
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from workflow.errors import NotAuthenticated, TooManyLoginAttempts
from workflow.settings import Settings

ALGORITHM = "HS256"


@lru_cache(maxsize=8)
def _key_for(secret_key: str) -> bytes:
    return hashlib.sha256(b"quartier-access-token:" + secret_key.encode()).digest()


def _signing_key(settings: Settings) -> bytes:
    # A fixed-length key derived from the configured secret (HS256 wants at least 32 bytes).
    return _key_for(settings.signing_secret())


class TokenClaims(NamedTuple):
    """Who a valid token names, and the user's token version it was issued under."""

    user_id: int
    version: int


# Tokens whose signature and claims were checked: (token, key) -> (claims, expiry as a Unix
# time). A token's signature depends on nothing else, so a hit needs only the expiry compared;
# whether the user may still log in, and whether the token version is still the user's (logout,
# password change and reset bump it), is checked in the database on every request (api.deps).
_VERIFIED: dict[tuple[str, bytes], tuple[TokenClaims, float]] = {}
_VERIFIED_MAX = 4096


def create_access_token(user: Any, settings: Settings, now: datetime | None = None) -> str:
    """A bearer token for `user` (anything with `id` and `token_version`)."""
    now = now or datetime.now(UTC)
    claims = {"sub": str(user.id), "ver": int(user.token_version), "iat": now,
              "exp": now + timedelta(minutes=settings.token_lifetime_minutes), "typ": "access"}
    return jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM)


def verified_claims(token: str, settings: Settings) -> TokenClaims:
    """The claims of a valid, unexpired token; NotAuthenticated otherwise."""
    key = _signing_key(settings)
    known = _VERIFIED.get((token, key))
    if known is not None and time.time() < known[1]:
        return known[0]
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub", "ver"]})
        if claims.get("typ") != "access" or type(claims["ver"]) is not int:
            raise jwt.InvalidTokenError("wrong token type")
        verified = TokenClaims(int(claims["sub"]), claims["ver"])
        expires = float(claims["exp"])
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Die Anmeldung ist abgelaufen. Bitte erneut anmelden.",
                               "The login has expired. Please log in again.") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise NotAuthenticated("Ungültiges Zugangstoken. Bitte erneut anmelden.",
                               "Invalid access token. Please log in again.") from None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[token, key] = (verified, expires)
    return verified


class LoginThrottle:
    """Failed logins per account and per client address within a moving window (the `limits`
    library, in this process's memory: each server worker counts on its own, and a restart
    forgets). Only failures count; once either count is full, every login attempt for that
    account or from that address is refused with 429 until the oldest failure leaves the
    window. A successful login clears its account's count, never its address's."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        window = settings.login_window_seconds
        self._per_account = self._item(settings.login_failures_per_account, window)
        self._per_address = self._item(settings.login_failures_per_address, window)

    @staticmethod
    def _item(amount: int, window: int) -> RateLimitItem | None:
        return RateLimitItemPerSecond(amount, window) if amount > 0 and window > 0 else None

    def _counts(self, account: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(item, kind, key) for item, kind, key in
                ((self._per_account, "account", account), (self._per_address, "address", address))
                if item is not None]

    def check(self, account: str, address: str) -> None:
        """TooManyLoginAttempts (with the seconds to wait) if either count is full."""
        waits = [self._limiter.get_window_stats(item, kind, key).reset_time - time.time()
                 for item, kind, key in self._counts(account, address)
                 if not self._limiter.test(item, kind, key)]
        if waits:
            raise TooManyLoginAttempts(max(1, math.ceil(max(waits))))

    def failed(self, account: str, address: str) -> None:
        for item, kind, key in self._counts(account, address):
            self._limiter.hit(item, kind, key)

    def succeeded(self, account: str) -> None:
        if self._per_account is not None:
            self._limiter.clear(self._per_account, "account", account)


_THROTTLE_LOCK = threading.Lock()


def login_throttle(state: Any, settings: Settings, name: str = "login_throttle"
                   ) -> LoginThrottle:
    """The app's one login throttle (made on first use, kept in the app's state); another
    `name` gives another throttle of the same limits (requests for password-reset links)."""
    throttle = getattr(state, name, None)
    if throttle is None:
        with _THROTTLE_LOCK:
            throttle = getattr(state, name, None)
            if throttle is None:
                throttle = LoginThrottle(settings)
                setattr(state, name, throttle)
    return throttle

"""One-time links to choose a password: issued for a confirmed registration, an invitation or a
forgotten password; only the token's SHA-256 is stored; a link works once, until it expires, and
a newer link of the same purpose replaces an older one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, select

from notifications.outbox import enqueue
from notifications.render import language_of
from states.accounts import ONE_TIME_LINKS, TokenPurpose
from workflow import users
from workflow.errors import InvalidLink
from workflow.links import with_link
from workflow.models import OneTimeToken, Organisation, Programme, User
from workflow.repository import connection
from workflow.security import check_password, hash_password
from workflow.settings import get_settings

_TOKENS = OneTimeToken.__table__.c  # type: ignore[attr-defined]
TOKEN_BYTES = 32


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lifetime_of(purpose: TokenPurpose, hours: float | None = None) -> timedelta:
    """How long a link of `purpose` is valid: `hours`, else the setting the purpose names."""
    if hours is None:
        hours = float(getattr(get_settings(), ONE_TIME_LINKS[purpose].lifetime))
    return timedelta(hours=hours)


def issue(session: Session, user: User, purpose: TokenPurpose, now: datetime,
          lifetime: timedelta, by: int | None = None) -> tuple[str, OneTimeToken]:
    """A new link's token (returned once, never stored) and its row; earlier unused links of the
    same account and purpose stop working."""
    session.execute(update(OneTimeToken)
                    .where(_TOKENS.user_id == user.id, _TOKENS.purpose == purpose.value,
                           _TOKENS.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = OneTimeToken(token_hash=digest(token), purpose=purpose.value, user_id=user.id,
                       created_at=now, expires_at=now + lifetime, used_at=None,
                       created_by_id=by)
    session.add(row)
    session.flush()
    return token, row


def _used() -> InvalidLink:
    return InvalidLink(
        "Dieser Link wurde bereits verwendet oder durch einen neueren ersetzt. Melden Sie "
        "sich an, oder fordern Sie über „Passwort vergessen“ einen neuen Link an.",
        "This link was used already or replaced by a newer one. Log in, or request a new "
        "link with 'Forgot password'.", field="token")


def _refusal(row: OneTimeToken | None, now: datetime) -> InvalidLink | None:
    if row is None:
        return InvalidLink(
            "Dieser Link ist ungültig. Bitte prüfen Sie, ob Sie ihn vollständig aus der E-Mail "
            "übernommen haben, oder fordern Sie über „Passwort vergessen“ einen neuen an.",
            "This link is not valid. Check that you copied it completely from the email, or "
            "request a new one with 'Forgot password'.", field="token")
    if row.used_at is not None:
        return _used()
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= now:
        return InvalidLink(
            "Dieser Link ist abgelaufen. Bitte fordern Sie über „Passwort vergessen“ einen neuen "
            "an.", "This link has expired. Please request a new one with 'Forgot password'.",
            field="token")
    return None


class LinkHolder(NamedTuple):
    """Whom a valid link lets choose a password, and why."""

    token: OneTimeToken
    user: User


def holder(session: Session, token: str, now: datetime) -> LinkHolder:
    """The account of a valid, unused, unexpired link; InvalidLink (German and English) else."""
    row = session.exec(select(OneTimeToken).where(OneTimeToken.token_hash == digest(token))
                       ).first()
    user = session.get(User, row.user_id) if row is not None else None
    refusal = _refusal(row, now)
    if refusal is None and (user is None or user.disabled):
        refusal = InvalidLink("Das Konto dieses Links ist gesperrt.",
                              "The account of this link is disabled.", field="token")
    if refusal is not None:
        raise refusal
    assert row is not None and user is not None
    return LinkHolder(row, user)


def redeem(session: Session, token: str, password: str, now: datetime) -> User:
    """Choose the account's password with a valid link: the link is used up (once, even when
    two requests race), every login token of the account stops working."""
    link = holder(session, token, now)
    user = link.user
    check_password(password, email=user.email, name=user.name)
    seen, token_id = user.token_version, link.token.id
    users.end_read(session)
    hashed = hash_password(password)
    used = session.execute(update(OneTimeToken)
                           .where(_TOKENS.id == token_id, _TOKENS.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:  # another request used it in the meantime
        raise _used()
    users.store_password(session, user, hashed, must_change=False, seen_version=seen)
    return user


def programme_contact(session: Session) -> tuple[str, str, str]:
    """Who signs account emails: the (first) programme's name, contact name and address."""
    programme = session.exec(select(Programme).order_by(Programme.id)).first()
    if programme is None:
        return "Quartier", "Quartier", ""
    return programme.name, programme.contact_name or programme.name, programme.contact_email


def account_context(session: Session, user: User, organisation: Organisation | None,
                    **extra: object) -> dict[str, object]:
    """What every account email says: recipient, organisation, who signs."""
    name, contact_name, contact_email = programme_contact(session)
    return {"recipient_name": user.name, "recipient_email": user.email,
            "organisation_name": organisation.name if organisation else "",
            "programme_name": name, "contact_name": contact_name,
            "contact_email": contact_email, **extra}


def send_link(session: Session, user: User, purpose: TokenPurpose, now: datetime,
              lifetime: timedelta | None = None, by: int | None = None,
              **extra: object) -> int:
    """Issue a link of `purpose` for `user` and queue its email (in the caller's transaction);
    the outbox id."""
    lifetime = lifetime if lifetime is not None else lifetime_of(purpose)
    token, row = issue(session, user, purpose, now, lifetime, by)
    organisation = session.get(Organisation, user.organisation_id) if user.organisation_id \
        else None
    email = ONE_TIME_LINKS[purpose].email
    language = language_of(user.language)
    context = account_context(session, user, organisation, expires_at=row.expires_at.isoformat(),
                              **extra)
    return enqueue(connection(session), template=email, recipient=user.email,
                   language=language, now=now,
                   context=with_link(session, email, language, context, token=token))

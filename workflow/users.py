"""Managing user accounts (admin endpoint and `quartier users`): create, log in, passwords,
disable and enable. Passwords are Argon2 hashes; Argon2 runs outside any transaction."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, select

from states import Role
from workflow.errors import Conflict, InvalidInput, LoginFailed, NotFound
from workflow.inputs import is_number
from workflow.models import Organisation, User
from workflow.security import check_password, hash_password, one_time_password, verify_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_email(email: str, field: str = "email") -> str:
    """The address in lower case, or InvalidInput (German and English) naming `field`."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"„{email}“ ist keine gültige E-Mail-Adresse.",
                           f"'{email}' is not a valid email address.", field=field)
    return email
ROLES = tuple(r.value for r in Role if r != Role.system)
_USERS = User.__table__.c  # type: ignore[attr-defined]


class Login(NamedTuple):
    """Who logged in: what a token is made of."""

    id: int
    token_version: int
    must_change_password: bool


def end_read(session: Session) -> None:
    """End the transaction of what was only read, so that a slow Argon2 step holds no lock
    (on SQLite every transaction holds the write lock); the unit of work begins a new one for
    whatever it writes afterwards."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_read with unsaved changes")
    if session.in_transaction():
        session.commit()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the email is unknown, so both failures take about the same time.
    return hash_password("quartier-no-such-user")


def authenticate(session: Session, email: str, password: str) -> Login:
    """The active account with this email and password (LoginFailed otherwise). The row is read
    and the read ended before Argon2 verifies the password."""
    query = select(_USERS.id, _USERS.password_hash, _USERS.disabled, _USERS.token_version,
                   _USERS.must_change_password)
    row = session.execute(query.where(_USERS.email == email.strip().lower())).first()
    if row is None:
        row = session.execute(query.where(_USERS.email == email.strip())).first()
    end_read(session)
    ok = verify_password(row.password_hash if row else _dummy_hash(), password)
    if row is None:
        raise LoginFailed("unknown account")
    if not ok:
        raise LoginFailed("wrong password")
    if row.disabled:
        raise LoginFailed("account disabled")
    return Login(row.id, row.token_version, row.must_change_password)


def create_user(session: Session, *, email: str, name: str, role: str, password: str,
                organisation_id: int | None = None, language: str = "de") -> User:
    """A new active account; carriers belong to an organisation, staff to none."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"„{email}“ ist keine gültige E-Mail-Adresse.",
                           f"'{email}' is not a valid email address.", field="email")
    if role not in ROLES:
        raise InvalidInput(f"Unbekannte Rolle „{role}“ (möglich: {', '.join(ROLES)}).",
                           f"Unknown role '{role}' (possible: {', '.join(ROLES)}).", field="role")
    if not name.strip():
        raise InvalidInput("Bitte einen Namen angeben.", "Give a name.", field="name")
    check_password(password, email=email, name=name)
    if language not in ("de", "en"):
        raise InvalidInput("Sprache: de oder en.", "Language: de or en.", field="language")
    if role == Role.carrier:
        if organisation_id is None or session.get(Organisation, organisation_id) is None:
            raise InvalidInput("Träger-Konten brauchen eine bestehende Organisation.",
                               "Carrier accounts need an existing organisation.",
                               field="organisation_id")
    elif organisation_id is not None:
        raise InvalidInput("Nur Träger-Konten gehören zu einer Organisation.",
                           "Only carrier accounts belong to an organisation.",
                           field="organisation_id")
    if session.exec(select(User).where(User.email == email)).first():
        raise Conflict(f"Es gibt bereits ein Konto für {email}.",
                       f"An account for {email} already exists.", field="email")
    end_read(session)
    hashed = hash_password(password)
    user = User(email=email, name=name.strip(), role=role, organisation_id=organisation_id,
                language=language, password_hash=hashed)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.id)))


def find_user(session: Session, key: int | str) -> User:
    if isinstance(key, int) or is_number(str(key)):
        user = session.get(User, int(key))
    else:
        user = session.exec(select(User).where(User.email == str(key).strip().lower())).first()
    if user is None:
        raise NotFound(f"Nutzer {key} wurde nicht gefunden.", f"User {key} was not found.")
    return user


def store_password(session: Session, user: User, hashed: str, *, must_change: bool,
                    seen_version: int) -> int:
    """Write a new hash and bump the token version (every older token stops working), if the
    account's tokens are still of `seen_version`; the new version."""
    done = session.execute(
        update(User).where(_USERS.id == user.id, _USERS.token_version == seen_version)
        .values(password_hash=hashed, must_change_password=must_change,
                token_version=seen_version + 1))
    if done.rowcount != 1:
        raise Conflict("Das Konto wurde gleichzeitig geändert (Abmeldung oder Passwort); es "
                       "wurde nichts gespeichert. Bitte erneut versuchen.",
                       "The account was changed at the same time (logout or password); "
                       "nothing was saved. Please retry.")
    session.refresh(user)
    return seen_version + 1


def change_password(session: Session, user: User, current: str, new: str) -> int:
    """A user changes their own password (knowing the current one); the new token version."""
    seen, stored, email, name = user.token_version, user.password_hash, user.email, user.name
    end_read(session)
    if not verify_password(stored, current):
        raise InvalidInput("Das bisherige Passwort ist falsch.",
                           "The current password is wrong.", field="current_password")
    if new == current:
        raise InvalidInput("Das neue Passwort muss sich vom bisherigen unterscheiden.",
                           "The new password must differ from the current one.",
                           field="new_password")
    check_password(new, email=email, name=name)
    return store_password(session, user, hash_password(new), must_change=False,
                           seen_version=seen)


def set_password(session: Session, key: int | str, password: str | None = None, *,
                 must_change: bool = False) -> tuple[User, str | None]:
    """An administrator sets an account's password (a random one-time password when none is
    given, which is returned); with `must_change` the account can only change it after logging
    in. Every token of the account stops working."""
    user = find_user(session, key)
    generated = None
    if password is None:
        password = generated = one_time_password()
    else:
        check_password(password, email=user.email, name=user.name)
    seen = user.token_version
    end_read(session)
    store_password(session, user, hash_password(password), must_change=must_change,
                    seen_version=seen)
    return user, generated


def revoke_tokens(session: Session, user_id: int) -> None:
    """Log out everywhere: every token issued so far stops working."""
    session.execute(update(User).where(_USERS.id == user_id)
                    .values(token_version=_USERS.token_version + 1))


def disable_user(session: Session, key: int | str, by: int | None = None) -> User:
    """Disable an account; its tokens stop working at once and for good (enabling it again
    revives none). Nobody disables their own account, and the last active admin account stays."""
    user = find_user(session, key)
    if by is not None and user.id == by:
        raise Conflict("Das eigene Konto kann nicht gesperrt werden.",
                       "You cannot disable your own account.")
    if user.role == Role.admin and not user.disabled:
        # Lock the active admins (PostgreSQL; SQLite holds the write lock) so that two admins
        # disabling each other at once cannot leave none.
        admins = session.exec(select(User.id).where(User.role == Role.admin.value,
                                                    User.disabled == False)  # noqa: E712
                              .with_for_update()).all()
        if set(admins) <= {user.id}:
            raise Conflict("Das letzte aktive Konto der Programmverwaltung kann nicht gesperrt "
                           "werden.", "The last active admin account cannot be disabled.")
    user.disabled = True
    user.token_version += 1
    session.add(user)
    session.flush()
    return user


def change_role(session: Session, key: int | str, role: str, by: int | None = None) -> User:
    """Give a staff or observer account another role; its tokens stop working, so it logs in
    anew with the new role. Carriers belong to an organisation and stay carriers; nobody
    changes their own role, and the last active admin account keeps its role."""
    user = find_user(session, key)
    if role not in ROLES or role == Role.carrier or role == Role.system:
        staff = ", ".join(r for r in ROLES if r not in (Role.carrier, Role.system))
        raise InvalidInput(f"Unbekannte oder nicht vergebbare Rolle „{role[:40]}“ (möglich: "
                           f"{staff}).", f"Unknown or unassignable role '{role[:40]}' "
                           f"(possible: {staff}).", field="role")
    if user.role == Role.carrier:
        raise Conflict("Träger-Konten gehören zu einer Organisation und behalten ihre Rolle.",
                       "Carrier accounts belong to an organisation and keep their role.",
                       field="role")
    if by is not None and user.id == by:
        raise Conflict("Die eigene Rolle kann nicht geändert werden.",
                       "You cannot change your own role.", field="role")
    if user.role == role:
        return user
    if user.role == Role.admin and not user.disabled:
        admins = session.exec(select(User.id).where(User.role == Role.admin.value,
                                                    User.disabled == False)  # noqa: E712
                              .with_for_update()).all()
        if set(admins) <= {user.id}:
            raise Conflict("Das letzte aktive Konto der Programmverwaltung behält seine Rolle.",
                           "The last active admin account keeps its role.", field="role")
    user.role = role
    user.token_version += 1
    session.add(user)
    session.flush()
    return user


def enable_user(session: Session, key: int | str) -> User:
    """Enable a disabled account again; it logs in anew."""
    user = find_user(session, key)
    user.disabled = False
    session.add(user)
    session.flush()
    return user


def update_profile(session: Session, user: User, *, name: str, language: str, email: str,
                   password: str = "") -> User:
    """A user changes their own name, language and email address; a new address needs the
    current password and must be free."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Bitte einen Namen angeben.", "Give a name.", field="name")
    if len(name) > 200:
        raise InvalidInput("Der Name hat höchstens 200 Zeichen.",
                           "The name has at most 200 characters.", field="name")
    if language not in ("de", "en"):
        raise InvalidInput("Sprache: Deutsch oder Englisch.", "Language: German or English.",
                           field="language")
    email = valid_email(email)
    if email != user.email:
        if session.exec(select(User.id).where(User.email == email, User.id != user.id)).first():
            raise Conflict(f"Für {email} gibt es bereits ein Konto.",
                           f"An account for {email} exists already.", field="email")
        stored = user.password_hash
        end_read(session)
        if not verify_password(stored, password):
            raise InvalidInput("Zum Ändern der E-Mail-Adresse bitte das aktuelle Passwort "
                               "angeben.", "To change the email address, give your current "
                               "password.", field="current_password")
    user.name, user.language, user.email = name, language, email
    session.add(user)
    session.flush()
    return user

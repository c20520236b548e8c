"""Managing user accounts (admin endpoint and `quartier users`); passwords are Argon2 hashes."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from states import Role
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.inputs import is_number
from workflow.models import Organisation, User
from workflow.security import hash_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLES = tuple(r.value for r in Role if r != Role.system)


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
    if len(password) < 8:
        raise InvalidInput("Das Passwort muss mindestens 8 Zeichen haben.",
                           "The password needs at least 8 characters.", field="password")
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
    user = User(email=email, name=name.strip(), role=role, organisation_id=organisation_id,
                language=language, password_hash=hash_password(password))
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


def disable_user(session: Session, key: int | str) -> User:
    """Disable an account; its tokens stop working on the next request."""
    user = find_user(session, key)
    user.disabled = True
    session.add(user)
    session.flush()
    return user

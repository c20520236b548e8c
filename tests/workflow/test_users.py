"""workflow/users.py and workflow/security.py: the password policy, logging in with Argon2
outside any transaction, passwords set by an administrator, disabling and enabling."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from workflow import users
from workflow.db import unit_of_work
from workflow.errors import Conflict, InvalidInput, LoginFailed
from workflow.models import User
from workflow.security import check_password, hash_password

GOOD = "grüne-Tomaten-am-Fenster-7"


@pytest.mark.parametrize("password, reason_de, reason_en", [
    ("kurz", "mindestens 12 Zeichen", "at least 12 characters"),
    ("password1234", "zu leicht zu erraten", "very common password"),
    ("iloveyou2024", "zu leicht zu erraten", "too easy to guess"),
    ("qwertzuiop123", "zu leicht zu erraten", "too easy to guess"),
    ("quartier-demo", "zu leicht zu erraten", "too easy to guess"),  # the old demo password
    ("sabine.weiss1", "zu leicht zu erraten", "too easy to guess"),  # the account's own name
])
def test_short_and_common_passwords_are_refused_with_the_reason(password: str, reason_de: str,
                                                                reason_en: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(password, email="sabine.weiss@quartier.example", name="Sabine Weiss")
    assert reason_de in refused.value.de and reason_en in refused.value.en
    assert refused.value.extra["field"] == "password"


def test_long_uncommon_passwords_pass() -> None:
    for password in (GOOD, "richtig-geheim-42", "Kaffee und Kuchen um drei", "x7#Lq9!vT2@m"):
        check_password(password, email="a@example.org", name="A")


def _account(engine: Engine, email: str = "konto@example.org", role: str = "reviewer") -> int:
    with unit_of_work(engine) as session:
        user = User(email=email, name="Konto", role=role, password_hash=hash_password(GOOD))
        session.add(user)
        session.flush()
        return user.id


def test_login_verifies_argon2_without_holding_a_transaction(engine: Engine, monkeypatch,
                                                             sqlite_url: str) -> None:
    """On SQLite every transaction holds the write lock: while Argon2 runs, another connection
    must get it at once."""
    _account(engine)
    path = sqlite_url.removeprefix("sqlite:///")
    seen: list[bool] = []
    verify = users.verify_password

    def verify_while_another_writes(password_hash: str | None, password: str) -> bool:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if login held a transaction
            other.execute("ROLLBACK")
            seen.append(True)
        finally:
            other.close()
        return verify(password_hash, password)

    monkeypatch.setattr(users, "verify_password", verify_while_another_writes)
    with unit_of_work(engine) as session:
        login = users.authenticate(session, " Konto@Example.org ", GOOD)
        assert not session.in_transaction()
    assert seen == [True] and login.token_version == 0 and not login.must_change_password
    with unit_of_work(engine) as session:
        with pytest.raises(LoginFailed) as failed:
            users.authenticate(session, "konto@example.org", "falsch-falsch-falsch")
        assert failed.value.reason == "wrong password" and failed.value.status == 401
        with pytest.raises(LoginFailed) as unknown:
            users.authenticate(session, "niemand@example.org", GOOD)
        assert unknown.value.reason == "unknown account"
        assert unknown.value.de == failed.value.de  # one answer for every failure


def test_set_password_revokes_tokens_and_may_require_a_change(any_engine: Engine) -> None:
    user_id = _account(any_engine)
    with unit_of_work(any_engine) as session:
        user, generated = users.set_password(session, user_id, must_change=True)
        assert generated and user.token_version == 1 and user.must_change_password
    with unit_of_work(any_engine) as session:
        login = users.authenticate(session, "konto@example.org", generated)
        assert login.must_change_password and login.token_version == 1
    with unit_of_work(any_engine) as session:
        user = session.get(User, user_id)
        version = users.change_password(session, user, generated, GOOD + "!")
    with unit_of_work(any_engine) as session:
        user = session.get(User, user_id)
        assert version == user.token_version == 2 and not user.must_change_password
        with pytest.raises(InvalidInput, match="bisherige Passwort"):
            users.change_password(session, user, generated, "noch-ein-ganz-anderes-9")
    with unit_of_work(any_engine) as session:
        with pytest.raises(InvalidInput, match="zu leicht"):
            users.set_password(session, user_id, "password12345")


def test_a_concurrent_logout_makes_the_password_change_retry(engine: Engine) -> None:
    user_id = _account(engine)
    with unit_of_work(engine) as session:
        user = session.get(User, user_id)
        users.end_read(session)  # (SQLite: the read's transaction would hold the write lock)
        with unit_of_work(engine) as elsewhere:
            users.revoke_tokens(elsewhere, user_id)
        with pytest.raises(Conflict, match="gleichzeitig"):
            users.change_password(session, user, GOOD, GOOD + "?")


def test_disable_rules_and_enable(any_engine: Engine) -> None:
    first = _account(any_engine, "admin1@example.org", "admin")
    second = _account(any_engine, "admin2@example.org", "admin")
    with unit_of_work(any_engine) as session:
        with pytest.raises(Conflict, match="eigene Konto"):
            users.disable_user(session, first, by=first)
    with unit_of_work(any_engine) as session:
        users.disable_user(session, second, by=first)
    with unit_of_work(any_engine) as session:
        with pytest.raises(Conflict, match="letzte aktive") as last:
            users.disable_user(session, "admin1@example.org")
        assert "last active admin" in last.value.en and last.value.status == 409
    with unit_of_work(any_engine) as session:
        assert users.enable_user(session, second).disabled is False
        assert users.disable_user(session, first).token_version == 1
    with unit_of_work(any_engine) as session:
        active = session.exec(select(User.email).where(User.disabled == False)).all()  # noqa: E712
        assert active == ["admin2@example.org"]


def test_change_role_rules(any_engine: Engine) -> None:
    admin = _account(any_engine, "admin1@example.org", "admin")
    staff = _account(any_engine, "staff@example.org", "reviewer")
    with unit_of_work(any_engine) as session:
        changed = users.change_role(session, staff, "approver", by=admin)
        assert (changed.role, changed.token_version) == ("approver", 1)  # logs in anew
    for key, role, by, word in ((staff, "carrier", admin, "Rolle"),
                                (staff, "kaiser", admin, "Rolle"),
                                (admin, "reviewer", admin, "eigene Rolle"),
                                (admin, "reviewer", None, "letzte aktive")):
        with unit_of_work(any_engine) as session:
            with pytest.raises((InvalidInput, Conflict)) as refused:
                users.change_role(session, key, role, by=by)
            assert word in refused.value.de and refused.value.extra["field"] == "role"
    with unit_of_work(any_engine) as session:
        assert session.get(User, admin).role == "admin"
        assert session.get(User, staff).role == "approver"

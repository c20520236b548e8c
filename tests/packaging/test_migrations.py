"""The migrations form one line: `quartier db upgrade` goes to the one head, and a database that
stood at the two former heads (0002_api and 0004_reminders) comes out at it too."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from workflow import migrate


def test_alembic_has_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_heads() == ["0019_settlement"]
    # Every revision lies on the way to it.
    assert {r.revision for r in script.walk_revisions()} == {
        "0001", "0002_api", "0004_reminders", "0005_one_head", "0006_accounts", "0007_early_start",
        "0008_admin_audit", "0010_documents", "0011_outbox_attachments", "0012_finance_plan",
        "0013_onboarding", "0015_staff_work",
        "0014_payments", "0016_calls_of_funds", "0017_final_grant", "0018_final_report",
        "0019_settlement"}


def test_a_database_at_the_former_two_heads_upgrades_to_the_one(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'two-heads.sqlite3'}"
    migrate.upgrade(url, "0002_api")
    migrate.upgrade(url, "0004_reminders")
    engine = create_engine(url)
    with engine.connect() as conn:
        before = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert before == {"0002_api", "0004_reminders"}
    migrate.upgrade(url)
    with engine.connect() as conn:
        after = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    assert after == ["0019_settlement"]

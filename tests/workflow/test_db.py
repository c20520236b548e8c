"""workflow.db: a firing writes with Core statements; ORM objects loaded before it stay current."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from tests.factories import NOW, application_in, make_world
from workflow import engine
from workflow.models import Application, ApplicationYear, BudgetLine, Deadline


def test_orm_objects_loaded_before_a_firing_see_its_writes(any_engine: Engine) -> None:
    with Session(any_engine, expire_on_commit=False) as s:
        world = make_world(s)
        reference = application_in(s, world, "in_review").reference
        s.commit()

    with Session(any_engine, expire_on_commit=False) as s:
        # Loaded through the ORM first, then changed by the engine's Core statements.
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        years = s.exec(select(ApplicationYear).where(ApplicationYear.application_id == app.id))
        years = list(years)
        lines = list(s.exec(select(BudgetLine)))
        version = app.version

        engine.fire(s, reference, "request_documents", world.reviewer, now=NOW, reason="Fehlt",
                    payload={"documents": ["Kosten- und Finanzierungsplan"]})
        request = s.exec(select(Deadline).where(Deadline.application_id == app.id)).one()
        assert (app.state, app.version, request.status) == ("documents_requested", version + 1,
                                                            "open")

        engine.fire(s, reference, "provide_documents", world.carrier, now=NOW)
        engine.fire(s, reference, "recommend", world.reviewer, reason="Förderfähig", now=NOW,
                    payload={"amounts": {"2021": "40000", "2022": "30000"}})
        engine.fire(s, reference, "approve", world.approver, now=NOW)

        assert request.status == "met"
        assert (app.state, app.version) == ("approved", version + 4)
        assert app.approved_at is not None
        assert {y.year: y.approved_cents for y in years} == {2021: 40_000_00, 2022: 30_000_00}
        assert {ln.year: ln.committed_cents for ln in lines} == {2021: 40_000_00, 2022: 30_000_00}
        # The values are the database's, not pending ORM changes.
        assert not s.dirty and not s.new
        s.commit()

    with Session(any_engine) as s:
        app = s.exec(select(Application).where(Application.reference == reference)).one()
        assert (app.state, app.version) == ("approved", version + 4)
        committed = {ln.year: ln.committed_cents for ln in s.exec(select(BudgetLine))}
        assert committed == {2021: 40_000_00, 2022: 30_000_00}

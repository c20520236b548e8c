"""Liveness and readiness (the latter asks the database)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.errors import NotReady
from workflow.queries import database_problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and has the schema",
            responses={503: {"description": "The database is unreachable or not migrated"}})
def readyz(request: Request) -> dict[str, str]:
    error = database_problem(request.app.state.engine)
    if error is not None:
        raise NotReady("Die Datenbank ist nicht erreichbar oder nicht migriert "
                       "(quartier db upgrade).",
                       "The database is unreachable or not migrated (quartier db upgrade).",
                       error=error)
    return {"status": "ready", "database": "ok"}

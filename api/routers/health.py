"""Liveness and readiness (the latter asks the database)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import NotReady

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and has the schema")
def readyz(request: Request) -> dict[str, str]:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM app_user WHERE 1 = 0"))
            connection.rollback()
    except SQLAlchemyError as error:
        raise NotReady("Die Datenbank ist nicht erreichbar oder nicht migriert "
                       "(quartier db upgrade).",
                       "The database is unreachable or not migrated (quartier db upgrade).",
                       error=type(error).__name__) from None
    return {"status": "ready", "database": "ok"}

"""Administration of outgoing mail: dead letters and requeueing them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import AdminDep, SessionDep
from workflow.mail import list_dead, requeue
from workflow.presenters import outbox_out

router = APIRouter(prefix="/api/v1", tags=["administration"])


class OutboxMessageOut(BaseModel):
    id: int
    status: str
    attempts: int
    template: str
    recipient: str
    language: str
    subject: str | None
    message_id: str
    application_id: int | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


@router.get("/admin/mail/dead", response_model=list[OutboxMessageOut],
            summary="Emails that could not be delivered after all attempts")
def dead_mail(session: SessionDep, actor: AdminDep) -> list[dict[str, Any]]:
    return [outbox_out(m) for m in list_dead(session)]


@router.post("/admin/mail/{outbox_id}/requeue", response_model=OutboxMessageOut,
             summary="Deliver a dead email again (same Message-ID, fresh attempts)")
def requeue_mail(outbox_id: int, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return outbox_out(requeue(session, outbox_id))

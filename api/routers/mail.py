"""Administration of outgoing mail: dead letters and requeueing them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AdminDep, SessionDep, UnitOfWorkRoute
from api.schemas import OutboxMessageOut, RowId
from workflow.mail import list_dead, requeue
from workflow.presenters import outbox_out

router = APIRouter(prefix="/api/v1", tags=["administration"], route_class=UnitOfWorkRoute)


@router.get("/admin/mail/dead", response_model=list[OutboxMessageOut],
            summary="Emails that could not be delivered after all attempts")
def dead_mail(session: SessionDep, actor: AdminDep) -> list[dict[str, Any]]:
    return [outbox_out(m) for m in list_dead(session)]


@router.post("/admin/mail/{outbox_id}/requeue", response_model=OutboxMessageOut,
             summary="Deliver a dead email again (same Message-ID, fresh attempts)")
def requeue_mail(outbox_id: RowId, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return outbox_out(requeue(session, outbox_id))

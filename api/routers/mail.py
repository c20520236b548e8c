"""Administration of outgoing mail: the overview (dead letters first), dead letters and
requeueing them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AdminDep, LanguageDep, SessionDep, SettingsDep, UnitOfWorkRoute
from api.schemas import MailOverviewOut, OutboxMessageOut, RowId
from workflow.mail import list_dead, overview, requeue
from workflow.presenters import outbox_out

router = APIRouter(prefix="/api/v1", tags=["administration"], route_class=UnitOfWorkRoute)


@router.get("/admin/mail", response_model=MailOverviewOut,
            summary="The outbox at a glance: dead letters first, then pending, retrying, sent")
def mail_overview(session: SessionDep, actor: AdminDep, language: LanguageDep,
                  settings: SettingsDep) -> dict[str, Any]:
    found = overview(session)
    return {"dead_count": found.dead,
            "oldest_dead": outbox_out(found.oldest_dead) if found.oldest_dead else None,
            "warning": found.warning(language), "pending_count": found.pending,
            "retrying_count": found.retrying, "sent_count": found.sent,
            "retry_schedule_seconds": list(settings.delivery().retry_schedule)}


@router.get("/admin/mail/dead", response_model=list[OutboxMessageOut],
            summary="Emails that could not be delivered after all attempts")
def dead_mail(session: SessionDep, actor: AdminDep) -> list[dict[str, Any]]:
    return [outbox_out(m) for m in list_dead(session)]


@router.post("/admin/mail/{outbox_id}/requeue", response_model=OutboxMessageOut,
             summary="Deliver a dead email again (same Message-ID, fresh attempts)")
def requeue_mail(outbox_id: RowId, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    return outbox_out(requeue(session, outbox_id))

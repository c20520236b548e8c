"""The admin endpoints for dead mail (api/routers/mail.py) on the real app."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.routers import mail
from notifications.worker import deliver_due
from tests.api.conftest import api_settings, application_in, build_world, login
from tests.notifications.conftest import free_port
from workflow.settings import Settings


def test_dead_mail_is_listed_for_admins_and_can_be_requeued(engine: Engine) -> None:
    aw = build_world(engine)
    application_in(aw, "submitted")
    nowhere = replace(Settings(smtp_port=free_port()).delivery(), retry_schedule=())
    assert deliver_due(engine, nowhere).dead == 1

    app = create_app(engine=engine, settings=api_settings())
    if not any(getattr(r, "path", "") == "/api/v1/admin/mail/dead" for r in app.routes):
        app.include_router(mail.router)
    with TestClient(app) as client:
        admin = login(client, aw.emails["admin"])
        carrier = login(client, aw.emails["carrier"])
        assert client.get("/api/v1/admin/mail/dead", headers=carrier).status_code == 403
        [dead] = client.get("/api/v1/admin/mail/dead", headers=admin).json()
        assert dead["status"] == "dead" and dead["recipient"] == aw.emails["carrier"]
        assert dead["message_id"].startswith(f"<outbox-{dead['id']}.")

        again = client.post(f"/api/v1/admin/mail/{dead['id']}/requeue", headers=admin)
        assert again.status_code == 200 and again.json()["status"] == "pending"
        assert again.json()["attempts"] == 0
        assert client.get("/api/v1/admin/mail/dead", headers=admin).json() == []
        twice = client.post(f"/api/v1/admin/mail/{dead['id']}/requeue", headers=admin)
        assert twice.status_code == 409 and "unzustellbare" in twice.json()["detail"]
        missing = client.post("/api/v1/admin/mail/999999/requeue", headers=admin)
        assert missing.status_code == 404


def test_the_mail_overview_leads_with_the_dead_letters(any_engine: Engine) -> None:
    engine = any_engine
    aw = build_world(engine)
    application_in(aw, "submitted")
    app = create_app(engine=engine, settings=api_settings())
    with TestClient(app) as client:
        admin = login(client, aw.emails["admin"])
        quiet = client.get("/api/v1/admin/mail", headers=admin).json()
        assert quiet["dead_count"] == 0 and quiet["oldest_dead"] is None
        assert quiet["warning"] is None and quiet["pending_count"] >= 1
        assert sum(quiet["retry_schedule_seconds"]) >= 3 * 86400  # the default schedule

        nowhere = replace(Settings(smtp_port=free_port()).delivery(), retry_schedule=())
        dead = deliver_due(engine, nowhere).dead
        assert dead >= 1
        body = client.get("/api/v1/admin/mail", headers=admin).json()
        assert list(body)[:3] == ["dead_count", "oldest_dead", "warning"]
        assert body["dead_count"] == dead and body["pending_count"] == 0
        assert body["oldest_dead"]["status"] == "dead"
        assert body["oldest_dead"]["recipient"] == aw.emails["carrier"]
        assert body["warning"].startswith(f"{dead} E-Mail")
        assert "unzustellbar" in body["warning"]
        english = client.get("/api/v1/admin/mail",
                             headers={**admin, "Accept-Language": "en"}).json()
        assert "could not be delivered" in english["warning"]
        carrier = login(client, aw.emails["carrier"])
        assert client.get("/api/v1/admin/mail", headers=carrier).status_code == 403

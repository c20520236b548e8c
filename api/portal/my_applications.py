"""'Meine Anträge': the carrier's applications, their state, next deadline and what to do."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal.base import CarrierDep, page, portal_router
from states import DEADLINE_LABELS, DeadlineKind, State
from states.guidance import CARRIER_NEXT_STEP
from workflow.carrier_overview import my_applications

router = portal_router()


@router.get("/antraege")
def overview(request: Request, session: SessionDep, actor: CarrierDep) -> Response:
    rows = my_applications(session, actor.organisation_id)
    return page(request, "portal/applications.html", {
        "rows": rows, "next_step": {s.value: label for s, label in CARRIER_NEXT_STEP.items()},
        "deadline_labels": {k.value: label for k, label in DEADLINE_LABELS.items()},
        "State": State, "DeadlineKind": DeadlineKind})

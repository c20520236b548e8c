"""Idempotency-Key handling for requests with an effect (create, fire, budget change).

A retry with the same key and body gets the stored response and causes no second effect; the same
key with another body is refused. The stored response commits together with the effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlmodel import Session

from api.errors import IdempotencyKeyReused
from workflow import idempotency

REPLAY_HEADER = "Idempotent-Replayed"


@dataclass
class Idempotent:
    session: Session
    user_id: int
    key: str | None
    endpoint: str
    fingerprint: str
    replay: JSONResponse | None = None

    @classmethod
    def begin(cls, session: Session, user_id: int, key: str | None, endpoint: str,
              body: Any) -> Idempotent:
        """Look the key up; sets `replay` when this exact request was answered before."""
        if key is None:
            return cls(session, user_id, None, endpoint, "")
        fingerprint = idempotency.request_hash(endpoint, body)
        self = cls(session, user_id, key, endpoint, fingerprint)
        stored = idempotency.find(session, user_id, key)
        if stored is None:
            return self
        if stored.endpoint != endpoint or stored.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet. Bitte "
                "für jede neue Anfrage einen neuen Schlüssel wählen.",
                "This Idempotency-Key was already used for a different request. Use a new key "
                "for every new request.", field="Idempotency-Key")
        self.replay = JSONResponse(stored.response_body, status_code=stored.status_code,
                                   headers={**stored.response_headers, REPLAY_HEADER: "true"})
        return self

    def respond(self, status: int, content: Any, headers: dict[str, str], *,
                encoded: bool = False) -> JSONResponse:
        """The response; stored under the key (in the same transaction) if there is one.

        `encoded`: the content holds only JSON types already (no dates, models, …).
        """
        body = content if encoded else jsonable_encoder(content)
        if self.key is not None:
            idempotency.remember(self.session, user_id=self.user_id, key=self.key,
                                 endpoint=self.endpoint, fingerprint=self.fingerprint,
                                 status_code=status, body=body, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

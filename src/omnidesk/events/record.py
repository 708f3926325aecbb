"""The event as it travels: on the bus, over the WebSocket, into analytics."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One committed event of a tenant, with its per-tenant sequence number."""

    tenant_id: uuid.UUID
    seq: int
    type: str
    subject: str
    payload: dict[str, Any]
    occurred_at: datetime
    actor: str

    def to_json(self) -> dict[str, Any]:
        """The wire form (JSON-ready dict)."""
        return {
            "seq": self.seq,
            "type": self.type,
            "subject": self.subject,
            "payload": self.payload,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
        }

    def dumps(self) -> str:
        """Serialise for the Redis bus."""
        return json.dumps({**self.to_json(), "tenant_id": str(self.tenant_id)})

    @classmethod
    def loads(cls, text: str | bytes) -> EventRecord:
        """Parse what dumps() wrote."""
        data = json.loads(text)
        return cls(
            tenant_id=uuid.UUID(data["tenant_id"]),
            seq=int(data["seq"]),
            type=data["type"],
            subject=data["subject"],
            payload=data["payload"],
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            actor=data["actor"],
        )

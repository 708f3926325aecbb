"""Writing analytics event logs (hand-made or generated) into a tenant's stored event log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert, update

from omnidesk.analytics.events import Event
from omnidesk.db import Database
from omnidesk.events.models import Event as StoredEvent
from omnidesk.tenants.models import Tenant


async def store_events(db: Database, tenant_id: uuid.UUID, events: Sequence[Event]) -> None:
    """Append the events after the tenant's last seq (renumbered), as the log would hold them."""
    async with db.write() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        first = tenant.event_seq + 1
        rows = [{"tenant_id": tenant_id, "seq": first + i, "type": e.type,
                 "subject": e.subject, "actor": "test", "payload": dict(e.payload),
                 "occurred_at": e.occurred_at} for i, e in enumerate(events)]
        for start in range(0, len(rows), 5000):
            await session.execute(insert(StoredEvent), rows[start:start + 5000])
        await session.execute(update(Tenant).where(Tenant.id == tenant_id)
                              .values(event_seq=first + len(rows) - 1))

"""API shapes of tenants."""

from __future__ import annotations

import uuid
from datetime import datetime

from omnidesk.schemas import Name, ReadModel, Slug, TimeZoneName, WriteModel


class TenantCreate(WriteModel):
    """A new tenant."""

    slug: Slug
    name: Name
    timezone: TimeZoneName = "UTC"


class TenantUpdate(WriteModel):
    """Changes to a tenant."""

    name: Name | None = None
    timezone: TimeZoneName | None = None


class TenantRead(ReadModel):
    """A tenant as the API shows it."""

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    created_at: datetime

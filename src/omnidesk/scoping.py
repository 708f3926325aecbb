"""Tenant-scoped lookups: an object of another tenant is simply not found."""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.errors import NotFound


class TenantOwned(Protocol):
    """A table row that belongs to one tenant."""

    @property
    def tenant_id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=TenantOwned)
_BY_ID: dict[type[Any], Select[Any]] = {}


def _by_id(model: type[Any]) -> Select[Any]:
    """The model's row by id and tenant, built once per model (docs/development.md, "the hot
    path": `session.get` builds its SELECT anew on each call)."""
    statement = _BY_ID.get(model)
    if statement is None:
        statement = _BY_ID[model] = select(model).where(
            model.id == bindparam("id"), model.tenant_id == bindparam("tenant_id"))
    return statement


async def find_in_tenant(
    session: AsyncSession, model: type[T], object_id: Any, *, tenant_id: uuid.UUID,
) -> T | None:
    """The row with this id in the tenant, or None."""
    row: T | None = (await session.execute(
        _by_id(model), {"id": object_id, "tenant_id": tenant_id})).scalar_one_or_none()
    return row


async def get_in_tenant(
    session: AsyncSession, model: type[T], object_id: Any, *, tenant_id: uuid.UUID, what: str,
) -> T:
    """The row with this id in the caller's tenant, else NotFound naming `what`."""
    row = await find_in_tenant(session, model, object_id, tenant_id=tenant_id)
    if row is None:
        raise _not_found(what, object_id)
    return row


async def require_in_tenant(
    session: AsyncSession, model: type[Any], object_id: Any, *, tenant_id: uuid.UUID, what: str,
) -> None:
    """NotFound naming `what` unless the row exists in the caller's tenant (nothing loaded)."""
    owner = await session.scalar(select(model.tenant_id).where(model.id == object_id))
    if owner != tenant_id:
        raise _not_found(what, object_id)


def _not_found(what: str, object_id: Any) -> NotFound:
    """Another tenant's object is reported exactly as a missing one."""
    return NotFound(f"{what} {object_id} not found", field=f"{what}_id")

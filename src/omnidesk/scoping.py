"""Tenant-scoped lookups and updates: an object of another tenant is simply not found."""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, Table, Update, bindparam, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from omnidesk.errors import NotFound


class TenantOwned(Protocol):
    """A table row that belongs to one tenant."""

    @property
    def tenant_id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=TenantOwned)
_BY_ID: dict[type[Any], Select[Any]] = {}
_SETTING: dict[tuple[type[Any], frozenset[str]], Update] = {}


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


def _setting(model: type[Any], columns: frozenset[str]) -> Update:
    """UPDATE of these columns of the model's row by id and tenant, built once per set."""
    statement = _SETTING.get((model, columns))
    if statement is None:
        table: Table = model.__table__
        statement = _SETTING[(model, columns)] = update(table).where(
            table.c.id == bindparam("row_id"), table.c.tenant_id == bindparam("row_tenant_id"),
        ).values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
    return statement


async def update_in_tenant(session: AsyncSession, row: Any, values: dict[str, Any]) -> None:
    """Set columns of a loaded row: one UPDATE by its id and tenant now, rather than the unit
    of work's at the flush (≈ 0.1 ms of CPU a row less, docs/development.md, "the hot
    path"). A row not inserted yet, or with other changes pending, takes them the ORM's way."""
    state = inspect(row)
    if state.pending or state.modified:
        for name, value in values.items():
            setattr(row, name, value)
        return
    connection = await session.connection()  # a Core statement: no ORM execution around it
    result = await connection.execute(_setting(type(row), frozenset(values)), {
        "row_id": row.id, "row_tenant_id": row.tenant_id,
        **{f"new_{name}": value for name, value in values.items()}})
    if result.rowcount != 1:  # as the flush would tell it
        raise StaleDataError(f"{type(row).__name__} {row.id} is gone: nothing was updated")
    for name, value in values.items():
        set_committed_value(row, name, value)


def _not_found(what: str, object_id: Any) -> NotFound:
    """Another tenant's object is reported exactly as a missing one."""
    return NotFound(f"{what} {object_id} not found", field=f"{what}_id")

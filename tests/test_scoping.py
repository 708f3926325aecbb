"""Tenant-scoped writes: a loaded row's columns set by one UPDATE of its id and tenant."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm.exc import StaleDataError

from omnidesk.customers.actions import create_customer
from omnidesk.customers.models import Customer
from omnidesk.customers.schemas import CustomerCreate
from omnidesk.db import Database
from omnidesk.scoping import get_in_tenant, update_in_tenant
from tests.conftest import make_tenant


class Updates:
    """The UPDATE statements sent to the database while it is entered."""

    def __init__(self, db: Database) -> None:
        self.engine = db.write_engine.sync_engine
        self.sent: list[tuple[str, Any]] = []

    def __enter__(self) -> list[tuple[str, Any]]:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.sent

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE CUSTOMERS"):
            self.sent.append((statement, parameters))


async def _customer(db: Database, tenant_id: uuid.UUID) -> uuid.UUID:
    async with db.write() as session:
        customer = await create_customer(session, CustomerCreate(display_name="Ana"),
                                         tenant_id=tenant_id, actor="test")
        return customer.id


async def _stored_name(db: Database, customer_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    async with db.read() as session:
        row = (await session.execute(select(Customer.display_name, Customer.attributes)
                                     .where(Customer.id == customer_id))).one()
        return row.display_name, row.attributes


async def test_a_loaded_rows_columns_are_set_at_once_by_its_id_and_tenant(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    customer_id = await _customer(db, tenant_id)
    with Updates(db) as updates:
        async with db.write() as session:
            customer = await get_in_tenant(session, Customer, customer_id, tenant_id=tenant_id,
                                           what="customer")
            await update_in_tenant(session, customer, {"display_name": "Ana Lima"})
            assert len(updates) == 1  # sent now, not at the flush
            assert customer.display_name == "Ana Lima"
            assert customer not in session.dirty  # nothing left for the flush
    (statement, _), = updates
    where = statement.partition("WHERE")[2]
    assert "customers.id =" in where and "customers.tenant_id =" in where
    assert await _stored_name(db, customer_id) == ("Ana Lima", {})


async def test_a_row_with_other_changes_pending_keeps_them_all(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    customer_id = await _customer(db, tenant_id)
    async with db.write() as session:
        customer = await get_in_tenant(session, Customer, customer_id, tenant_id=tenant_id,
                                       what="customer")
        customer.attributes = {"tier": "gold"}
        await update_in_tenant(session, customer, {"display_name": "Ana Lima"})
    assert await _stored_name(db, customer_id) == ("Ana Lima", {"tier": "gold"})


async def test_a_row_not_inserted_yet_takes_the_values_in_its_insert(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    with Updates(db) as updates:
        async with db.write() as session:
            customer = Customer(tenant_id=tenant_id, display_name="Ana", attributes={},
                                created_at=db.clock.now())
            session.add(customer)
            await update_in_tenant(session, customer, {"display_name": "Ana Lima"})
    assert updates == []
    assert await _stored_name(db, customer.id) == ("Ana Lima", {})


async def test_a_row_gone_meanwhile_is_an_error_as_at_a_flush(db: Database) -> None:
    tenant_id = await make_tenant(db, "acme")
    customer_id = await _customer(db, tenant_id)
    with pytest.raises(StaleDataError):
        async with db.write() as session:
            customer = await get_in_tenant(session, Customer, customer_id, tenant_id=tenant_id,
                                           what="customer")
            await session.execute(delete(Customer).where(Customer.id == customer_id))
            await update_in_tenant(session, customer, {"display_name": "Ana Lima"})

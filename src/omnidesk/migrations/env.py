"""Alembic environment: runs omnidesk's migrations on SQLite or PostgreSQL (async drivers)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from omnidesk.knowledge.models import is_fts_object
from omnidesk.models import Base

target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate leaves the full-text index alone (created by hand in 0004)."""
    return not is_fts_object(name)


def run_with(connection: Connection) -> None:
    """Run the migrations on one connection (batch mode lets SQLite alter tables)."""
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    """Connect with the configured URL and migrate."""
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


def run_offline() -> None:
    """Emit SQL without a database (`alembic upgrade --sql`)."""
    context.configure(url=context.config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())

"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from omnidesk.knowledge.models import is_fts_object
from omnidesk.models import Base


def _differences(connection: Connection) -> list[Any]:
    # The full-text index (SQLite FTS5 tables, PostgreSQL tsvector column) is not in the models.
    context = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "include_name": lambda name, type_, parents: not is_fts_object(name)})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []

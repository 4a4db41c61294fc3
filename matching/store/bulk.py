"""Multi-row inserts that skip rows a unique constraint already holds, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
    returning: Column[Any],
) -> list[Any]:
    """Insert the rows whose `unique` columns are not taken yet; the `returning` values of those."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"no conflict-skipping insert for {dialect!r}")
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(unique))
    # Another transaction may hold some of these keys: the database decides, we read back ours.
    result = session.execute(statement.returning(returning), list(rows))
    return list(result.scalars())

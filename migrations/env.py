"""Alembic environment: the URL comes from the caller (see matching/store/schema.py)."""
from __future__ import annotations

from alembic import context

from matching.store import Base, make_engine

config = context.config
connection = config.attributes.get("connection")

# Tables other software owns: APScheduler creates and migrates its job store itself.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Leave foreign tables out of autogenerate comparisons, so `alembic check` stays clean."""
    if type_ == "table":
        return name not in FOREIGN_TABLES
    if type_ in {"index", "column", "unique_constraint", "foreign_key_constraint"}:
        return parent_names.get("table_name") not in FOREIGN_TABLES
    return True


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()

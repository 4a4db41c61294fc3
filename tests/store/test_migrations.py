"""Migrations go down to nothing and back up, and match the models exactly (`alembic check`)."""
from __future__ import annotations

from sqlalchemy import inspect, text

from matching.store import Base, schema


def table_names(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_down_and_up_and_alembic_check_is_clean(engine):
    schema.check(engine)
    assert table_names(engine) == set(Base.metadata.tables)

    schema.downgrade(engine, "base")
    assert table_names(engine) == set()

    schema.upgrade(engine)
    assert table_names(engine) == set(Base.metadata.tables)
    schema.check(engine)
    with engine.connect() as connection:
        heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(heads) == 1


def test_partial_unique_index_survives_the_round_trip(engine):
    schema.downgrade(engine, "base")
    schema.upgrade(engine)
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("match")}
    assert indexes["uq_match_one_open_per_resident"]["unique"]

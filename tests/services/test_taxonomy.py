import pytest
from sqlalchemy import func, select

from matching.services import taxonomy
from matching.store import Activity, Interest, Language
from matching.store import schema


def test_a_freshly_migrated_database_has_the_taxonomy(session):
    assert session.scalar(select(func.count()).select_from(Interest)) >= 30
    assert session.scalar(select(func.count()).select_from(Activity)) == 12
    assert session.scalar(select(func.count()).select_from(Language)) >= 18
    languages = taxonomy.labels(session, "nl")["language"]
    assert languages["tr"] == "Turks"
    assert languages["ary"] == "Marokkaans-Arabisch"
    assert "ber" in languages
    assert taxonomy.labels(session, "en")["activity"]["koffie_drinken"] == "Having coffee"


def test_codes_are_active_ones_in_position_order(session):
    walking = session.get(Interest, "wandelen")
    walking.active = False
    session.get(Interest, "lezen").position = -1
    session.flush()
    codes = taxonomy.codes(session, "interest")
    assert codes[0] == "lezen"
    assert "wandelen" not in codes
    assert "wandelen" in taxonomy.labels(session, "nl")["interest"]
    assert all(code.isascii() and code == code.lower() for code in codes)
    assert taxonomy.codes(session, "activity")[:2] == ["koffie_drinken", "wandeling"]
    session.rollback()


def test_downgrade_removes_the_taxonomy_and_upgrade_restores_it(engine, session):
    schema.downgrade(engine, "0001")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Language)) == 0
    session.rollback()
    schema.upgrade(engine)
    assert session.scalar(select(func.count()).select_from(Language)) >= 18
    session.rollback()


def test_unknown_kind_is_refused(session):
    with pytest.raises(ValueError, match="hobby"):
        taxonomy.codes(session, "hobby")

"""Taxonomy rows and form helpers shared by the profile page tests."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from matching.store import Activity, Interest, Language

TERMS = {
    Language: [("nl", "Nederlands", "Dutch"), ("tr", "Turks", "Turkish"), ("ar", "Arabisch", "Arabic")],
    Interest: [("wandelen", "Wandelen", "Walking"), ("muziek", "Muziek", "Music")],
    Activity: [("koffie_drinken", "Koffie drinken", "Having coffee"), ("koken", "Koken", "Cooking")],
}


def add_taxonomy(session: Session) -> None:
    """Make sure the terms the tests use exist (migration 0002 seeds most of them)."""
    for model, rows in TERMS.items():
        for position, (code, nl, en) in enumerate(rows):
            if session.get(model, code) is None:
                session.add(model(code=code, label_nl=nl, label_en=en, position=position))
    session.commit()


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], *, form_path: str | None = None) -> Any:
    """GET the form for its CSRF token, then POST data to path."""
    page = client.get(form_path or path).get_data(as_text=True)
    return client.post(path, data={**data, "csrf_token": token(page)})


def fetch(session: Session, model: type[Any], id: str) -> Any:
    """The stored row as it is now; the read transaction is ended so the app can write again.

    On SQLite every transaction begins IMMEDIATE, so a test holding one would block the app.
    """
    row = session.get(model, id, populate_existing=True)
    session.commit()
    return row


def scalar(session: Session, statement: Any) -> Any:
    """One value, read in a transaction that is ended straight away (see fetch)."""
    value = session.scalar(statement)
    session.commit()
    return value

"""One database session per request; the view commits, teardown closes (and rolls back)."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from matching.store import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["maatwerk.engine"] = engine
    app.extensions["maatwerk.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close)


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["maatwerk.sessions"]()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()

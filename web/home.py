"""The staff home page with the population's counts, and the health check."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select, text

from matching.store import Match, Resident, Volunteer

from . import staff_scope
from .db import db_session

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    session = db_session()
    mine = staff_scope.scope()
    volunteers = dict(session.execute(select(Volunteer.status, func.count()).where(mine.volunteers())
                                      .group_by(Volunteer.status)).all())
    residents = dict(session.execute(select(Resident.status, func.count()).where(mine.residents())
                                     .group_by(Resident.status)).all())
    matches = dict(session.execute(select(Match.status, func.count()).where(mine.matches())
                                   .group_by(Match.status)).all())
    return render_template("home/index.html", volunteers=volunteers, residents=residents, matches=matches)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200

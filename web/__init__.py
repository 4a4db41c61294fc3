"""The Flask application: create_app() wires one blueprint per area."""
from __future__ import annotations

import logging

from flask import Flask

from config import Config, from_environment

from . import (
    api, attention, audit_log, auth, check_ins, dashboard, db, durability, edge, errors, group_activities, home, i18n,
    imports, links,
    organisations, outbox,
    placing, privacy, proposals, public, referral_status, replies, residents, runs, security, staff, volunteers,
)


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(config or from_environment())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db.init_app(app)
    placing.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    edge.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(volunteers.bp)
    app.register_blueprint(residents.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(organisations.bp)
    app.register_blueprint(referral_status.bp)
    app.register_blueprint(group_activities.bp)
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(outbox.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(durability.bp)
    app.register_blueprint(runs.bp)
    app.register_blueprint(proposals.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(check_ins.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(attention.bp)
    api.init_app(app)
    return app

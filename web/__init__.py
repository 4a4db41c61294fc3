"""The Flask application: create_app() wires one blueprint per area."""
from __future__ import annotations

import logging

from flask import Flask

from config import Config, from_environment

from . import (
    api, auth, db, errors, home, i18n, outbox, privacy, public, residents, security, staff,
    volunteers,
)


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(config or from_environment())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(volunteers.bp)
    app.register_blueprint(residents.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(outbox.bp)
    api.init_app(app)
    return app

"""The geocoder the configuration names (GEOCODER), made once per app for the views that place
people: intake, edits, the public forms, the partner API and the import."""
from __future__ import annotations

from flask import Flask, current_app

from matching.services.geocoding import Geocoder, from_settings


def init_app(app: Flask) -> None:
    app.extensions["maatwerk.geocoder"] = from_settings(
        app.config["GEOCODER"], app.config["NOMINATIM_URL"], app.config["NOMINATIM_USER_AGENT"])


def geocoder() -> Geocoder | None:
    """The app's geocoder, or None: the PC4 postcode areas alone."""
    return current_app.extensions["maatwerk.geocoder"]  # type: ignore[no-any-return]

"""Input refused at the edge, before any view or query sees it, for every route alike.

Control characters in the path, the query string, form fields or JSON text (NUL breaks
PostgreSQL's text columns; none belongs in a name or a search) and JSON that cannot be read
(malformed, or nested deeper than any record we take) get a 400 in the user's language and
change nothing. Tab, line feed and carriage return stay allowed in form and JSON text.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug import Response

from .api.problems import problem
from .errors import error_page

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_JSON_DEPTH = 20
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app: Flask) -> None:
    # Registered before every other hook, so nothing (not even a login check) reads bad input.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_bad_input)


def refuse_bad_input() -> Response | tuple[Any, int] | None:
    api = request.path.startswith("/api/")
    if _ANY_CONTROL.search(request.path):
        # For the API the path is an id: nothing by that name exists.
        return problem(404, _("Niet gevonden.")) if api else _refused()
    for key, value in request.args.items(multi=True):
        if _ANY_CONTROL.search(key) or _ANY_CONTROL.search(value):
            return _refused_field(key, api)
    if request.method not in _BODY_METHODS:
        return None
    if request.is_json:
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, RecursionError):
            return error_page(400, _("Verzoek niet begrepen"),
                              _("De JSON-inhoud van het verzoek is niet leesbaar."))
        if (field := _unclean_json_field(body)) is not None:
            return _refused_field(field, api)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if _TEXT_CONTROL.search(key) or _TEXT_CONTROL.search(value):
                return _refused_field(key, api)
    return None


def whole_number(text: str | None) -> int | None:
    """A page, version or count from a form or query: 0 to 999,999,999, else None.

    More digits than that would overflow a database integer (or Python's int parsing).
    """
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _unclean_json_field(body: Any) -> str | None:
    """The top-level field holding a control character or nesting deeper than MAX_JSON_DEPTH."""
    stack: list[tuple[Any, int, str]] = [(body, 1, "body")]
    while stack:
        value, depth, field = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return field
        if isinstance(value, str):
            if _TEXT_CONTROL.search(value):
                return field
        elif isinstance(value, dict):
            for key, item in value.items():
                name = key if depth == 1 else field
                if _TEXT_CONTROL.search(key):
                    return "body"
                stack.append((item, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)
    return None


def _refused_field(field: str, api: bool) -> Response | tuple[Any, int]:
    if api:
        name = field if not _ANY_CONTROL.search(field) else "body"
        return problem(422, _("Ongeldige gegevens."), errors={name[:60]: "invalid_characters"})
    return _refused()


def _refused() -> tuple[Any, int]:
    return error_page(400, _("Verzoek niet begrepen"),
                      _("Het verzoek bevat een stuurteken (zoals een nul-byte). Dat kan niet in "
                        "een naam, zoekterm of ander veld; haal het weg en probeer het opnieuw."))

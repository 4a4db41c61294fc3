"""Fixtures shared by the service tests."""
from __future__ import annotations

import pytest

from matching.store import Activity, Interest, Language, PostcodeArea


@pytest.fixture
def codes(session):
    """The taxonomy codes and the postcode area these tests rely on."""
    for model, code, nl, en in [
        (Language, "nl", "Nederlands", "Dutch"), (Language, "ar", "Arabisch", "Arabic"),
        (Interest, "wandelen", "Wandelen", "Walking"), (Interest, "koken", "Koken", "Cooking"),
        (Activity, "koffie_drinken", "Koffie drinken", "Having coffee"),
    ]:
        if session.get(model, code) is None:
            session.add(model(code=code, label_nl=nl, label_en=en))
    session.add(PostcodeArea(postcode="3511", place="Utrecht", lat=52.09, lon=5.11))
    session.flush()

from datetime import timedelta

import pytest

from matching.errors import Conflict, NotFound, ValidationFailed
from matching.services import api_tokens
from matching.store import AuditEvent, utcnow


def test_verify_finds_the_live_token_and_notes_its_last_use(session):
    now = utcnow()
    row, token = api_tokens.issue(session, organisation="Buurtteam Zuid", scope="write",
                                  name="koppeling", created_by="admin@vcu.example", now=now)
    assert row.last_used_at is None
    later = now + timedelta(minutes=5)
    assert api_tokens.verify(session, token, now=later) is row
    assert row.last_used_at == later
    assert api_tokens.actor(row) == "api:Buurtteam Zuid"
    for wrong in ("", token + "x", token.upper(), token.replace(row.prefix, "0" * 12),
                  f"mw_{row.prefix}_" + "A" * 43):
        assert api_tokens.verify(session, wrong, now=later) is None


def test_a_revoked_token_no_longer_verifies_and_cannot_be_revoked_twice(session):
    now = utcnow()
    row, token = api_tokens.issue(session, organisation="GGD", scope="read", created_by=None,
                                  now=now)
    api_tokens.revoke(session, row.prefix, actor="admin@vcu.example", now=now)
    assert api_tokens.verify(session, token, now=now) is None
    with pytest.raises(Conflict):
        api_tokens.revoke(session, row.prefix, actor=None, now=now)
    with pytest.raises(NotFound):
        api_tokens.revoke(session, "ffffffffffff", actor=None, now=now)
    actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions == ["api_token.issued", "api_token.revoked"]
    assert api_tokens.tokens(session) == [row]


def test_an_organisation_name_must_fit_the_audit_actor(session):
    with pytest.raises(ValidationFailed) as failure:
        api_tokens.issue(session, organisation="x" * 61, scope="read", created_by=None,
                         now=utcnow())
    assert failure.value.errors == {"organisation": "too_long"}
    row, _token = api_tokens.issue(session, organisation="x" * 60, scope="read", created_by=None,
                                   now=utcnow())
    session.flush()
    assert len(api_tokens.actor(row)) == 64

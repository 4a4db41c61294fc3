"""Autoescaping everywhere: a script canary in every text field never comes back raw."""
from __future__ import annotations

from .profile_fixtures import add_taxonomy, post_form

RAW = '<script>alert("kanarie")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;kanarie&#34;)&lt;/script&gt;"
TEXT_FIELDS = ("first_name", "last_name", "neighbourhood", "notes", "location_problem")


def test_staff_pages_escape_every_text_field(logged_in, session, make_volunteer, make_resident):
    client = logged_in("coordinator")
    canaries = dict.fromkeys(TEXT_FIELDS, RAW)
    volunteer = make_volunteer(**canaries, stop_reason=RAW)
    resident = make_resident(**canaries, referrer_name=RAW, referrer_organisation=RAW,
                             closed_reason=RAW)
    session.commit()
    pages = ["/", "/vrijwilligers/", f"/vrijwilligers/{volunteer.id}",
             f"/vrijwilligers/{volunteer.id}/bewerken", "/deelnemers/",
             f"/deelnemers/{resident.id}", f"/deelnemers/{resident.id}/bewerken",
             "/vrijwilligers/?q=%3Cscript%3E", "/deelnemers/?q=" + RAW]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert RAW not in page and "<script" not in page, path
    detail = client.get(f"/vrijwilligers/{volunteer.id}").get_data(as_text=True)
    assert ESCAPED in detail


def test_public_form_echoes_input_escaped(client, session):
    add_taxonomy(session)
    session.commit()
    response = post_form(client, "/aanmelden", {"first_name": RAW, "last_name": RAW,
                                                 "email": "niet-goed"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert RAW not in page and "<script" not in page
    assert ESCAPED in page

"""The audit log page: an admin reads who viewed or changed whose record, when, which fields;
filters by person, staff member and period; downloads it as CSV. Values never appear."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from matching.store import utcnow

from .test_access import sign_in


def test_an_admin_finds_a_view_and_an_edit_by_person_staff_and_period(app, make_staff, session,
                                                                    make_volunteer):
    volunteer = make_volunteer(first_name="=Fenna", last_name="Canary", notes="NOTECANARY")
    other = make_volunteer(first_name="Gijs", last_name="Anders", email="gijs@example.org")
    session.commit()
    coordinator, colleague = sign_in(app, make_staff, "coordinator")
    assert coordinator.get(f"/vrijwilligers/{volunteer.id}").status_code == 200
    assert coordinator.get(f"/vrijwilligers/{other.id}").status_code == 200
    admin, _me = sign_in(app, make_staff, "admin")

    page = admin.get("/beheer/auditlog?persoon=fenna").get_data(as_text=True)
    assert "1 gebeurtenis" in page and colleague.name in page and "bekeken" in page
    assert "Fenna" in page and "Gijs" not in page and "NOTECANARY" not in page
    by_id = admin.get(f"/beheer/auditlog?persoon={other.id}").get_data(as_text=True)
    assert "Gijs" in by_id and "Fenna" not in by_id
    by_staff = admin.get(f"/beheer/auditlog?medewerker={colleague.id}").get_data(as_text=True)
    assert "2 gebeurtenissen" in by_staff
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert "0 gebeurtenissen" in admin.get(
        f"/beheer/auditlog?tot={yesterday}").get_data(as_text=True)
    refused = admin.get("/beheer/auditlog?van=0001-01-01").get_data(as_text=True)
    assert "Vul een geldige datum in" in refused

    download = admin.get("/beheer/auditlog.csv?persoon=fenna")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:3] == ["Tijd", "Door", "Handeling"] and len(rows) == 2
    assert rows[1][1] == colleague.name and rows[1][2] == "bekeken"
    assert rows[1][4] == "'=Fenna Canary"  # a formula is neutralised
    assert "NOTECANARY" not in download.get_data(as_text=True)


def test_only_admins_read_the_audit_log(app, make_staff):
    for role in ("coordinator", "analyst"):
        client, _user = sign_in(app, make_staff, role)
        assert client.get("/beheer/auditlog").status_code == 403
        assert client.get("/beheer/auditlog.csv").status_code == 403

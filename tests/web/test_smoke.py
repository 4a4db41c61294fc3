from tests.logins import login


def test_login_page_is_dutch_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_login_reaches_home_with_counts(client, make_staff, make_volunteer, session):
    user = make_staff()
    make_volunteer()
    session.commit()
    response = login(client, user.email)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert 'data-count="volunteers">1<' in home.get_data(as_text=True)

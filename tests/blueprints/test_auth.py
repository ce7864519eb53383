"""Provider login: a password, a session cookie that scripts cannot read, CSRF on the form,
and answers that never say whether an account exists."""

import re

import pytest
from werkzeug.security import generate_password_hash

from widget import create_app
from widget.extensions import db
from widget.models import Provider

from ..conftest import app_config

PASSWORD = "correct horse battery"


@pytest.fixture
def with_password(provider):
    account = db.session.get(Provider, provider.id)
    account.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    return account


def csrf_token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def log_in(client, email, password, next_path=None):
    path = "/admin/login" + (f"?next={next_path}" if next_path else "")
    token = csrf_token(client, "/admin/login")
    return client.post(path, data={"csrf_token": token, "email": email, "password": password})


def test_the_dashboard_sends_a_stranger_to_the_login_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/"


def test_a_provider_logs_in_and_reaches_the_dashboard(client, with_password):
    response = log_in(client, "ADA1@example.com ", PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Dr. Ada 1" in page.get_data(as_text=True)


def test_the_session_cookie_is_http_only_and_same_site_lax(client, with_password):
    cookie = log_in(client, "ada1@example.com", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain-http development server


def test_the_session_cookie_is_secure_in_production(database_url, clock):
    app = create_app(app_config(database_url, SESSION_COOKIE_SECURE=True))
    with app.app_context():
        assert app.config["SESSION_COOKIE_SECURE"] is True
        db.engine.dispose()


def test_a_wrong_password_and_an_unknown_email_read_the_same(client, with_password):
    wrong = log_in(client, "ada1@example.com", "not the password")
    unknown = log_in(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    text = re.compile(r'value="[^"]*"')  # the CSRF token and the typed email differ
    assert text.sub("", wrong.get_data(as_text=True)).replace("ada1@example.com", "") == text.sub(
        "", unknown.get_data(as_text=True)
    ).replace("nobody@example.com", "")
    assert client.get("/admin/").status_code == 302


def test_a_login_without_its_csrf_token_is_refused(client, with_password):
    response = client.post("/admin/login", data={"email": "ada1@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_after_login_the_provider_goes_back_where_they_were_going(client, with_password):
    response = log_in(client, "ada1@example.com", PASSWORD, next_path="/admin/?tab=1")
    assert response.headers["Location"] == "/admin/?tab=1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "admin"])
def test_login_never_redirects_to_another_site(client, with_password, target):
    response = log_in(client, "ada1@example.com", PASSWORD, next_path=target)
    assert response.headers["Location"] == "/admin/"


def test_logging_out_ends_the_session(client, with_password):
    log_in(client, "ada1@example.com", PASSWORD)
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/admin/").get_data(as_text=True)
    ).group(1)
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_login_attempts_are_rate_limited(database_url, clock, provider):
    app = create_app(
        app_config(database_url, RATELIMIT_ENABLED=True, WIDGET_RATELIMIT_LOGIN="3 per minute")
    )
    with app.app_context():
        http = app.test_client()
        answers = [log_in(http, "ada1@example.com", "guess").status_code for _ in range(4)]
        assert answers == [401, 401, 401, 429]
        db.session.remove()
        db.engine.dispose()

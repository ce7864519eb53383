"""The browser-facing boundary: session fixation, CSRF on every form, security headers on
every page, and error answers that never show a stack trace or SQL."""

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.routing import Rule

import widget.blueprints.api.base as api_base
from widget.domain import accounts

from .conftest import World, csrf_token, log_in_dashboard

LEAKS = ("Traceback", 'File "', "SELECT", "INSERT", "sqlalchemy", "psycopg", "RuntimeError")


def _path(rule: Rule, world: World) -> str:
    """A concrete path for a rule, with ids and tokens of the world's own objects."""
    values = {
        "slug": world.slug,
        "token": world.link["token"],
        "booking_id": world.booking_id,
        "client_id": world.client["id"],
        "type_id": world.type_id,
        "link_id": world.link["id"],
        "client_package_id": 1,
        "endpoint_id": 1,
        "package_id": world.package_id,
        "filename": "widget.css",
    }
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _snapshot(world: World) -> dict[str, Any]:
    api = world.api
    reads = (
        "/api/v1/settings",
        "/api/v1/clients",
        "/api/v1/bookings",
        "/api/v1/share-links",
        "/api/v1/appointment-types",
        "/api/v1/packages",
        "/api/v1/availability",
        "/api/v1/webhooks",
        f"/api/v1/clients/{world.client['id']}/credits/{world.type_id}",
        f"/api/v1/clients/{world.client['id']}/packages",
    )
    return {path: api.get(path).get_json() for path in reads}


def _browser_for(world: World, path: str) -> FlaskClient:
    if path.startswith("/admin"):
        return world.dashboard()
    if path.startswith("/portal"):
        return world.portal()
    return world.app.test_client()


# Session fixation


def test_a_session_cookie_from_before_login_does_not_carry_the_login(world: World) -> None:
    browser = world.app.test_client()
    browser.get("/admin/login")
    planted = browser.get_cookie("session")
    assert planted is not None
    log_in_dashboard(browser, world.provider_email)
    assert browser.get("/admin/").status_code == 200
    logged_in = browser.get_cookie("session")
    assert logged_in is not None and logged_in.value != planted.value

    attacker = world.app.test_client()
    attacker.set_cookie("session", planted.value)
    assert attacker.get("/admin/").status_code == 302

    token = csrf_token(browser, "/admin/")
    assert browser.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert browser.get("/admin/").status_code == 302
    browser.set_cookie("session", planted.value)
    assert browser.get("/admin/").status_code == 302


def test_a_portal_login_replaces_the_pre_login_session(world: World) -> None:
    browser = world.app.test_client()
    browser.get(f"/portal/{world.slug}/login")
    planted = browser.get_cookie("session")
    assert planted is not None
    from .conftest import log_in_portal

    log_in_portal(browser, world.slug, world.client["email"])
    assert browser.get(f"/portal/{world.slug}/").status_code == 200
    assert browser.get_cookie("session").value != planted.value  # type: ignore[union-attr]
    attacker = world.app.test_client()
    attacker.set_cookie("session", planted.value)
    assert attacker.get(f"/portal/{world.slug}/").status_code == 302


# CSRF


def test_every_state_changing_form_of_admin_and_portal_refuses_a_post_without_csrf(
    world: World,
) -> None:
    rules = [
        rule
        for rule in world.app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and rule.rule.startswith(("/admin", "/portal"))
    ]
    assert len(rules) > 20
    before = _snapshot(world)
    for rule in rules:
        path = _path(rule, world)
        browser = _browser_for(world, path)
        response = browser.post(path, data={"name": "csrf", "email": "x@example.com"})
        assert response.status_code == 400, (path, response.status_code)
        if path.startswith("/admin") and not path.startswith("/admin/log"):
            assert browser.get("/admin/").status_code == 200, "logged out by a forged POST"
    assert _snapshot(world) == before


# Security headers


def test_every_page_carries_the_security_headers(world: World) -> None:
    world.app.config["WIDGET_DEV_MAIL"] = True
    rules = [r for r in world.app.url_map.iter_rules() if "GET" in (r.methods or set())]
    seen = 0
    for rule in rules:
        path = _path(rule, world)
        response = _browser_for(world, path).get(path)
        response.close()
        seen += 1
        headers = response.headers
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), path
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors" in policy, path
        if rule.endpoint == "pages.embed_page" and response.status_code == 200:
            assert "X-Frame-Options" not in headers
            assert "frame-ancestors 'self'" in policy
        else:
            assert headers.get("X-Frame-Options") == "DENY", path
            assert "frame-ancestors 'none'" in policy, path
    assert seen > 40


# Error answers


@pytest.fixture
def quiet_errors(world: World) -> World:
    """Debug off and exceptions handled, as in production."""
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    world.app.debug = False
    return world


def _assert_clean(response: Any, status: int) -> None:
    assert response.status_code == status
    body = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in body, leak


def _raise(exc: BaseException) -> Any:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    return fail


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (RuntimeError("SELECT secret FROM clients"), 500, "internal_error"),
        (
            IntegrityError("INSERT INTO clients (email) VALUES (%s)", {}, Exception("dup")),
            500,
            "internal_error",
        ),
        (
            OperationalError("SELECT * FROM api_keys", {}, Exception("psycopg: server gone")),
            503,
            "service_unavailable",
        ),
    ],
)
def test_errors_never_show_a_stack_trace_or_sql(
    quiet_errors: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    exc: Exception,
    status: int,
    code: str,
) -> None:
    world = quiet_errors
    monkeypatch.setattr(api_base, "provider_for_api_key", _raise(exc))
    monkeypatch.setattr(accounts, "provider_by_slug", _raise(exc))
    api = world.api.get("/api/v1/settings")
    _assert_clean(api, status)
    assert api.get_json()["error"]["code"] == code
    page = world.app.test_client().get(f"/portal/{world.slug}/login")
    _assert_clean(page, status)

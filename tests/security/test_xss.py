"""Stored XSS: every free-text field holds `<script>` and an attribute breakout, and every
page, email and dev page that shows it shows it escaped (as text, never as markup)."""

from html import unescape
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from widget.extensions import db
from widget.models import OutboxMessage

from .conftest import PAYLOADS, World, evil, links_in_mail

LABELS = ("Provider", "Type", "NewType", "Package", "Client", "Note", "Label", "Visitor")


def _read(http: FlaskClient, path: str) -> str:
    response = http.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return str(response.get_data(as_text=True))


def _assert_escaped(where: str, html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"{where} shows {payload!r} unescaped"


def _shown(pages: dict[str, str]) -> set[str]:
    """The labels whose whole attack value some page shows, as text."""
    return {label for label in LABELS for html in pages.values() if evil(label) in unescape(html)}


def _public_pages(world: World) -> dict[str, str]:
    http = world.app.test_client()
    token = world.link["token"]
    paths = [f"/l/{token}", f"/embed/{token}"]
    paths += [
        p for p in links_in_mail(world.visitor_email) if p.startswith(("/confirm/", "/manage/"))
    ]
    paths += [p for p in links_in_mail(world.client["email"]) if p.startswith("/manage/")]
    assert any(p.startswith("/manage/") for p in paths) and any(
        p.startswith("/confirm/") for p in paths
    )
    return {path: _read(http, path) for path in paths}


def _dashboard_pages(world: World) -> dict[str, str]:
    http = world.dashboard()
    client, kind = world.client["id"], world.type_id
    paths = [
        "/admin/",
        "/admin/calendar?day=2026-11-30",
        "/admin/calendar?day=2026-11-30&view=day",
        "/admin/clients",
        "/admin/clients?q=Client",
        f"/admin/clients/{client}",
        f"/admin/clients/{client}/credits/{kind}",
        "/admin/links",
        f"/admin/links/{world.link['id']}",
        "/admin/packages",
        "/admin/types",
        f"/admin/types/{kind}",
        f"/admin/bookings/{world.booking_id}",
        f"/admin/bookings/{world.public_booking_id}",
        "/admin/bookings/new",
        f"/admin/bookings/new?client_id={client}&appointment_type_id={kind}&day=2026-11-30",
        "/admin/settings",
        "/admin/hours",
    ]
    return {path: _read(http, path) for path in paths}


def _portal_pages(world: World) -> dict[str, str]:
    http = world.portal()
    base = f"/portal/{world.slug}"
    paths = [
        f"{base}/login",
        f"{base}/",
        f"{base}/book",
        f"{base}/bookings",
        f"{base}/credits/{world.type_id}",
        f"{base}/bookings/{world.booking_id}/cancel",
        f"{base}/bookings/{world.booking_id}/move",
    ]
    return {path: _read(http, path) for path in paths}


def test_public_booking_pages_show_stored_attacks_escaped(world: World) -> None:
    pages = _public_pages(world)
    for path, html in pages.items():
        _assert_escaped(path, html)
    assert {"Provider", "NewType"} <= _shown(pages)


def test_dashboard_pages_show_stored_attacks_escaped(world: World) -> None:
    pages = _dashboard_pages(world)
    for path, html in pages.items():
        _assert_escaped(path, html)
    assert set(LABELS) - {"Provider"} <= _shown(pages)


def test_portal_pages_show_stored_attacks_escaped(world: World) -> None:
    pages = _portal_pages(world)
    for path, html in pages.items():
        _assert_escaped(path, html)
    assert {"Provider", "Type", "Client", "Note"} <= _shown(pages)


def test_emails_and_the_dev_mail_page_show_stored_attacks_escaped(world: World) -> None:
    db.session.rollback()
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages
    bodies: dict[str, str] = {}
    for message in messages:
        html: Any = getattr(message, "html_body", None)
        if html:
            _assert_escaped(f"email {message.id} to {message.recipient}", html)
            bodies[f"email {message.id}"] = html
    assert {"Provider", "Visitor"} <= _shown(bodies)
    world.app.config["WIDGET_DEV_MAIL"] = True
    page = _read(world.app.test_client(), "/dev/mail")
    _assert_escaped("/dev/mail", page)
    assert "Visitor" in _shown({"/dev/mail": page}) or "Provider" in _shown({"/dev/mail": page})

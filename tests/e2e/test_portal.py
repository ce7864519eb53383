"""The client portal in a real browser: log in by a magic link that arrives over real SMTP,
book a follow-up with a credit, cancel it early and get the credit back.

Screenshots of the main pages, at desktop and phone widths, go to tests/e2e/screenshots/.
"""

import email
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from tests.conftest import Api, Clock, app_config
from widget import create_app
from widget.domain import providers
from widget.extensions import db

from .conftest import WEEK

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 375, "height": 812}


class MailSink:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list[EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def wait_for(self, subject_start: str, timeout: float = 30.0) -> EmailMessage:
        """The first message whose subject starts so; the wait is generous because on a
        loaded machine the delivery after a response once took longer than 10 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received:
                if str(message["Subject"]).startswith(subject_start):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no email '{subject_start}...' arrived")


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    sink = MailSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@dataclass
class LivePortal:
    url: str
    slug: str


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path, smtp: MailSink) -> Iterator[LivePortal]:
    """Widget on a real socket, mailing through the sink; Dr. Ada's client Mia holds two
    Follow-Up credits."""
    path = tmp_path / "widget.db"
    shutil.copy(sqlite_template, path)
    config = app_config(
        f"sqlite:///{path}", WIDGET_CLOCK=Clock(), WIDGET_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}"
    )
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        created = providers.create_provider(
            db.session, name="Dr. Ada", email="ada@example.com", timezone="America/New_York"
        )
        db.session.commit()
        slug = created.provider.slug
        db.session.remove()
    api = Api(app.test_client(), created.api_key)

    def ok(response: Any) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.get_json()
        return dict(response.get_json())

    ok(api.put("/api/v1/availability", json={"weekly": WEEK}))
    follow_up = ok(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": "Follow-Up",
                "duration_minutes": 50,
                "audience": "existing_clients",
                "requires_credit": True,
            },
        )
    )
    package = ok(
        api.post(
            "/api/v1/packages",
            json={
                "name": "Spring Reset",
                "price_cents": 40000,
                "items": [{"appointment_type_id": follow_up["id"], "quantity": 2}],
            },
        )
    )
    ok(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": "Massage",
                "duration_minutes": 60,
                "audience": "existing_clients",
                "requires_credit": True,
            },
        )
    )
    mia = ok(api.post("/api/v1/clients", json={"email": "mia@example.com", "name": "Mia"}))
    ok(api.post(f"/api/v1/clients/{mia['id']}/packages", json={"package_id": package["id"]}))
    yield LivePortal(f"http://127.0.0.1:{server.server_port}", slug)
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, timezone_id="America/New_York", locale="en-US"
    )
    visitor = context.new_page()
    yield visitor
    context.close()


def shoot(page: Page, name: str) -> None:
    """Save the whole page at desktop width, then at phone width with no sideways scroll."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    assert size is not None
    page.set_viewport_size(size)


def credits_shown(page: Page) -> str:
    return page.locator(".credit-item .balance").inner_text()


def test_a_client_logs_in_by_email_books_a_follow_up_and_cancels_it_early(
    live: LivePortal, smtp: MailSink, page: Page
) -> None:
    page.goto(f"{live.url}/portal/{live.slug}/")
    expect(page.get_by_role("heading", name="Log in to your client portal")).to_be_visible()
    shoot(page, "login")
    page.locator("#link-email").fill("mia@example.com")
    page.get_by_role("button", name="Email me a login link").click()
    expect(page.get_by_text("a login link is on its way")).to_be_visible()

    message = smtp.wait_for("Your login link")
    body = str(message.get_body(("plain",)).get_content())
    login_url = re.search(r"http://\S+/login/\S+", body)
    assert login_url is not None, body
    page.goto(login_url.group(0))
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Hello Mia")).to_be_visible()
    assert credits_shown(page) == "2"
    shoot(page, "home")

    page.get_by_role("link", name="Book an appointment").first.click()
    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    shoot(page, "book")
    page.get_by_role("link", name="Choose a time for Follow-Up").click()
    page.locator('a.slot time[datetime="2026-11-30T09:00:00-05:00"]').wait_for()
    shoot(page, "week")
    page.locator('a.slot time[datetime="2026-11-30T09:00:00-05:00"]').click()
    expect(page.get_by_text("Uses 1 of your 2 Follow-Up credits")).to_be_visible()
    shoot(page, "confirm")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_text("Booked: Follow-Up, Monday 30 November at 09:00.")).to_be_visible()
    assert credits_shown(page) == "1"
    smtp.wait_for("Booked: Follow-Up")
    shoot(page, "home-booked")

    page.get_by_role("link", name="History of Follow-Up credits").click()
    expect(page.get_by_text("Follow-Up on 30 Nov: -1")).to_be_visible()
    shoot(page, "history")

    page.get_by_role("link", name="My bookings").click()
    shoot(page, "bookings")
    page.get_by_role("link", name="Cancel Follow-Up").click()
    expect(page.get_by_text("Its credit goes back to your account.")).to_be_visible()
    shoot(page, "cancel")
    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_text("Its credit is back in your account.")).to_be_visible()
    smtp.wait_for("Cancelled: Follow-Up")

    page.get_by_role("link", name="My credits").click()
    assert credits_shown(page) == "2"


def test_a_type_without_credits_is_refused_with_the_reason_and_what_to_do(
    live: LivePortal, smtp: MailSink, page: Page
) -> None:
    page.goto(f"{live.url}/portal/{live.slug}/login")
    page.locator("#link-email").fill("mia@example.com")
    page.get_by_role("button", name="Email me a login link").click()
    body = str(smtp.wait_for("Your login link").get_body(("plain",)).get_content())
    page.goto(re.search(r"http://\S+/login/\S+", body).group(0))  # type: ignore[union-attr]
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Book", exact=True).click()
    expect(page.locator('[data-reason="insufficient_credits"]')).to_contain_text(
        "No credit is left for this appointment type. Ask Dr. Ada about a package."
    )
    shoot(page, "book-refused")
    massage = page.locator(".offer", has_text="Massage").get_attribute("data-type-id")
    page.goto(f"{live.url}/portal/{live.slug}/book?type={massage}&start=2026-11-30T09:00:00-05:00")
    expect(page.get_by_role("heading", name="No credit left for this appointment")).to_be_visible()
    expect(page.get_by_role("link", name="Follow-Up 50 minutes")).to_be_visible()
    shoot(page, "refused")

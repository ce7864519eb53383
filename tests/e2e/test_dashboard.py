"""The provider's dashboard in a real browser: a purchase recorded and archived with the
balance untouched, and a share link whose copied snippet books on another site.

Screenshots of the main pages, at desktop and phone widths, go to tests/e2e/screenshots/.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.security import generate_password_hash

from widget.extensions import db
from widget.models import Provider

from .conftest import Clinic, LiveWidget

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 375, "height": 812}
PASSWORD = "correct horse battery"


def shoot(page: Page, name: str) -> None:
    """Save the whole page at desktop width, then at phone width with no sideways scroll."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    assert size is not None
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.set_viewport_size(size)


@pytest.fixture
def provider_page(browser: Browser, widget: LiveWidget) -> Iterator[Page]:
    """The provider, logged in through the login form, in a browser that may use the clipboard."""
    with widget.app.app_context():
        account = db.session.get(Provider, widget.provider_id)
        account.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.commit()
        db.session.remove()
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},
        timezone_id="America/New_York",
        locale="en-US",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.goto(widget.url + "/admin/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Tue 24 Nov 2026").wait_for()
    yield page
    context.close()


@pytest.fixture
def follow_up(widget: LiveWidget) -> dict[str, Any]:
    return widget.new_type(name="Follow-Up", audience="existing_clients", requires_credit=True)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_an_archived_purchase_keeps_its_credits_and_they_still_book(
    widget, provider_page, follow_up
):
    page = provider_page
    items = [{"appointment_type_id": follow_up["id"], "quantity": 4}]
    created(
        widget.api.post(
            "/api/v1/packages", json={"name": "Spring Reset", "price_cents": 40000, "items": items}
        )
    )
    grace = created(
        widget.api.post(
            "/api/v1/clients", json={"name": "Grace Hopper", "email": "grace@example.com"}
        )
    )
    created(
        widget.api.post(
            "/api/v1/clients", json={"name": "Alan Turing", "email": "alan@example.com"}
        )
    )
    shoot(page, "home")

    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Clients").click()
    page.get_by_role("searchbox").fill("grace")
    page.get_by_role("button", name="Search").click()
    shoot(page, "clients")
    page.get_by_role("link", name="Grace Hopper").click()

    page.get_by_label("Package", exact=True).select_option(label="Spring Reset")
    page.get_by_role("button", name="Record purchase").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Recorded 'Spring Reset' for Grace Hopper: +4 Follow-Up."
    )
    credits = page.locator(f'tr[data-type="{follow_up["id"]}"] [data-balance]')
    expect(credits).to_have_text("4")

    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("status")).to_contain_text("Its credits stay with the client")
    expect(credits).to_have_text("4")
    expect(page.locator("tr[data-client-package]")).to_contain_text("Archived")
    shoot(page, "client")

    page.get_by_role("link", name="History of Follow-Up").click()
    expect(page.locator(".balance-number")).to_have_text("4")
    shoot(page, "history")
    page.get_by_role("link", name="Grace Hopper").click()
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Appointment type").select_option(label="Follow-Up")
    page.get_by_label("Day").fill("2026-11-30")
    page.get_by_role("button", name="Show free times").click()
    page.get_by_role("link", name="10:00").click()
    expect(page.get_by_label("Time")).to_have_value("10:00")
    shoot(page, "book")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("One credit spent.")
    shoot(page, "booking")
    account = widget.api.get(f"/api/v1/clients/{grace['id']}/credits/{follow_up['id']}")
    assert account.get_json()["balance"] == 3
    assert [e["kind"] for e in account.get_json()["history"]] == ["package_grant", "booking"]


def test_a_copied_snippet_books_on_the_providers_website(widget, provider_page, clinic: Clinic):
    page = provider_page
    widget.new_type()  # Discovery Call, for new clients
    widget.settings(public_booking_verification="none")

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Websites that may embed your booking page").fill(clinic.allowed)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    shoot(page, "settings")

    page.get_by_role("link", name="Share links").click()
    page.get_by_label("Discovery Call").check()
    page.get_by_label("Label (for you: where the link is used)").fill("Website")
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Website Live")
    preview = page.frame_locator(".preview iframe")
    preview.locator("a.slot").first.wait_for()

    page.get_by_role("button", name="Copy embed snippet").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert 'data-widget-link="' in snippet and f"{widget.url}/embed.js" in snippet
    shoot(page, "link")

    page.goto(clinic.allowed + clinic.page("/book.html", snippet))
    frame = page.frame_locator("iframe")
    frame.locator("a.slot").first.click()
    frame.get_by_label("Your name").fill("Visitor")
    frame.get_by_label("Your email").fill("visitor@example.com")
    frame.get_by_role("button", name="Book this time").click()
    frame.get_by_role("heading", name="Your booking is confirmed").wait_for()
    page.wait_for_function("window.booked.length === 1")

    page.goto(widget.url + "/admin/calendar")
    expect(page.locator(".event")).to_contain_text("Visitor")
    shoot(page, "calendar")
    page.goto(widget.url + "/admin/links")
    expect(page.locator("tr[data-link]")).to_contain_text("1")
    shoot(page, "links")

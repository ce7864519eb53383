"""The embed snippet on a provider's website, in a real browser: booking in the frame, the
frame's height, the host hearing of the booking, the allow-list, and the popup."""

import re

import pytest

from .conftest import Clinic, LiveWidget

BERLIN_FIRST_SLOT = "2026-11-24T15:00:00+01:00"  # 09:00 New York, the clock's now


@pytest.fixture
def discovery(widget: LiveWidget) -> dict:
    return widget.new_type()


@pytest.fixture
def link(widget: LiveWidget, discovery: dict, clinic: Clinic) -> dict:
    widget.settings(embed_allowed_origins=[clinic.allowed])
    return widget.share(discovery["id"])


def frame_height(page):
    return page.eval_on_selector("#booking iframe", "f => f.getBoundingClientRect().height")


def content_height(frame):
    return frame.locator("html").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")


def berlin_slot(frame):
    """The first slot shown in the browser's zone (Europe/Berlin). The page reloads itself
    into that zone once it has loaded; a click on a slot before that is lost to the reload."""
    return frame.locator('a.slot:has(time[datetime$="+01:00"])').first


def heard_booking(page):
    """The booking the host page heard of; a second one would be a bug, so it is shown
    rather than waited out."""
    page.wait_for_function("window.booked.length > 0")
    booked = page.evaluate("window.booked")
    assert len(booked) == 1, booked
    return booked[0]


def child_frame(page):
    [frame] = [f for f in page.frames if f != page.main_frame]
    return frame


def test_a_visitor_books_in_the_frame_and_the_host_page_hears_of_it(
    widget, clinic, link, discovery, page
):
    widget.settings(public_booking_verification="none")
    page.goto(clinic.allowed + clinic.page("/book.html", widget.snippet(link["token"])))
    frame = page.frame_locator("#booking iframe")
    frame.locator(f'a.slot time[datetime="{BERLIN_FIRST_SLOT}"]').wait_for()
    assert frame.locator("select#tz").input_value() == "Europe/Berlin"  # from the browser

    page.wait_for_function("document.querySelector('#booking iframe').style.height !== '480px'")
    week_height = frame_height(page)
    assert abs(week_height - content_height(child_frame(page))) <= 2

    frame.locator(f'a.slot:has(time[datetime="{BERLIN_FIRST_SLOT}"])').click()
    frame.get_by_label("Your name").fill("Visitor")
    frame.get_by_label("Your email").fill("visitor@example.com")
    frame.get_by_role("button", name="Book this time").click()
    frame.get_by_role("heading", name="Your booking is confirmed").wait_for()

    event = heard_booking(page)
    [booking] = widget.api.get("/api/v1/bookings").get_json()["bookings"]
    assert event == {
        "target": "booking",
        "bubbles": True,
        "detail": {
            "id": booking["id"],
            "appointment_type_id": discovery["id"],
            "start": BERLIN_FIRST_SLOT,
            "status": "confirmed",
        },
    }
    page.wait_for_function(
        f"document.querySelector('#booking iframe').getBoundingClientRect().height < {week_height}"
    )
    assert abs(frame_height(page) - content_height(child_frame(page))) <= 2


def test_under_email_verification_the_host_hears_of_the_hold(widget, clinic, link, page):
    page.goto(clinic.allowed + clinic.page("/book.html", widget.snippet(link["token"])))
    frame = page.frame_locator("#booking iframe")
    berlin_slot(frame).click()
    frame.get_by_label("Your name").fill("Visitor")
    frame.get_by_label("Your email").fill("visitor@example.com")
    frame.get_by_role("button", name="Book this time").click()
    frame.get_by_role("heading", name="Check your email").wait_for()
    assert heard_booking(page)["detail"]["status"] == "pending_verification"


def test_a_site_not_in_the_allow_list_cannot_frame_the_booking_page(widget, clinic, link, page):
    refusals = []
    page.on("console", lambda m: refusals.append(m.text) if "frame-ancestors" in m.text else None)
    page.goto(clinic.foreign + clinic.page("/book.html", widget.snippet(link["token"])))
    page.wait_for_function("document.querySelector('#booking iframe') !== null")
    page.wait_for_timeout(1000)
    frame = child_frame(page)
    assert not frame.url.startswith(widget.url)  # Chromium shows its error page instead
    assert frame.locator("[data-widget-page]").count() == 0
    assert "Book this time" not in frame.content()
    assert frame_height(page) == 480  # the page never spoke to the host
    assert refusals and all(clinic.allowed in text for text in refusals)


def test_the_host_ignores_messages_that_do_not_come_from_its_frame(widget, clinic, link, page):
    page.goto(clinic.allowed + clinic.page("/book.html", widget.snippet(link["token"])))
    page.frame_locator("#booking iframe").locator("a.slot").first.wait_for()
    page.evaluate(
        """() => {
            const fake = {type: "widget:booked", booking: {id: 666, status: "confirmed"}};
            window.postMessage(fake, "*");
            window.postMessage({type: "widget:resize", height: 5}, "*");
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.booked") == []
    assert frame_height(page) > 5


def test_prefill_from_the_host_pages_address(widget, clinic, link, page):
    path = clinic.page("/prefill.html", widget.snippet(link["token"]))
    page.goto(
        clinic.allowed
        + path
        + "?widget_name=Ada%20Lovelace&widget_email=ada%40example.org&widget_timezone=Asia/Tokyo"
    )
    frame = page.frame_locator("#booking iframe")
    assert frame.locator("select#tz").input_value() == "Asia/Tokyo"
    frame.locator("a.slot").first.click()
    assert frame.get_by_label("Your name").input_value() == "Ada Lovelace"
    assert frame.get_by_label("Your email").input_value() == "ada@example.org"


def test_the_popup_opens_over_the_page_keeps_focus_and_closes_with_escape(
    widget, clinic, link, discovery, page
):
    snippet = widget.snippet(
        link["token"],
        mode="popup",
        label="Book a discovery call",
        name="Grace Hopper",
        email="grace@example.org",
        type=str(discovery["id"]),
    )
    page.goto(clinic.allowed + clinic.page("/popup.html", snippet))
    opener = page.get_by_role("button", name="Book a discovery call")
    opener.click()
    dialog = page.get_by_role("dialog", name="Book an appointment")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Close"
    assert page.evaluate("document.querySelector('h1').closest('[inert]') !== null")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("document.activeElement.textContent") == "Book a discovery call"
    assert page.evaluate("document.querySelector('[inert]') === null")

    opener.press("Enter")
    frame = page.frame_locator("[role=dialog] iframe")
    berlin_slot(frame).click()
    assert frame.get_by_label("Your name").input_value() == "Grace Hopper"
    frame.get_by_label("Your name").focus()
    page.keyboard.down("Escape")  # inside the frame: the page asks its host to close
    dialog.wait_for(state="detached")
    page.keyboard.up("Escape")
    assert page.evaluate("document.activeElement.textContent") == "Book a discovery call"

    opener.click()
    berlin_slot(frame).click()
    frame.get_by_role("button", name="Book this time").click()
    event = heard_booking(page)
    assert event["target"] == "booking"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+01:00", event["detail"]["start"])

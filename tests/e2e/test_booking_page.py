"""The full booking page in a real browser: without JavaScript, by keyboard, on a phone."""

from .conftest import LiveWidget


def tab_to(page, reached: str, presses: int = 60) -> None:
    """Press Tab until the expression holds, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(reached):
            return
    raise AssertionError(f"never reached by keyboard: {reached}")


def _link(widget: LiveWidget) -> dict:
    return widget.share(widget.new_type()["id"])


def test_the_page_books_with_javascript_off(widget, browser):
    link = _link(widget)
    context = browser.new_context(java_script_enabled=False, timezone_id="Europe/Berlin")
    page = context.new_page()
    try:
        page.goto(link["url"].replace("http://localhost", widget.url))
        assert page.locator("select#tz").input_value() == "America/New_York"  # nothing detected
        page.get_by_label("Times are shown in this time zone").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Show times").click()
        assert "tz=Asia%2FTokyo" in page.url
        # 09:00 New York on Wednesday 25 November is 23:00 in Tokyo
        page.locator('a.slot time[datetime="2026-11-25T23:00:00+09:00"]').click()
        page.get_by_label("Your name").fill("Visitor")
        page.get_by_label("Your email").fill("visitor@example.com")
        page.get_by_role("button", name="Book this time").click()
        page.get_by_role("heading", name="Check your email").wait_for()
    finally:
        context.close()
    [booking] = widget.api.get("/api/v1/bookings").get_json()["bookings"]
    assert booking["status"] == "pending_verification"


def test_the_page_follows_the_browsers_time_zone(widget, page):
    link = _link(widget)
    page.goto(link["url"].replace("http://localhost", widget.url))
    page.wait_for_url("**tz=Europe%2FBerlin**")
    assert page.locator("select#tz").input_value() == "Europe/Berlin"


def test_a_keyboard_user_on_a_phone_reaches_a_time_and_books(widget, browser):
    link = _link(widget)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, timezone_id="America/New_York", has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(link["url"].replace("http://localhost", widget.url))
        page.locator("a.slot").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
        tab_to(page, "document.activeElement.classList.contains('slot')")
        focused = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.className, s.outlineStyle, s.outlineWidth]; })()"
        )
        assert focused == ["slot", "solid", "3px"]  # a visible focus ring
        page.keyboard.press("Enter")
        page.get_by_label("Your name").wait_for()
        tab_to(page, "document.activeElement.id === 'name'")
        page.keyboard.type("Visitor")
        page.keyboard.press("Tab")
        page.keyboard.type("not an email")
        page.keyboard.press("Enter")  # the browser's own check stops it
        assert page.get_by_label("Your email").evaluate("e => e.validity.valid") is False
        page.get_by_label("Your email").fill("visitor@example.com")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Check your email").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()

"""What the booking pages and the portal tell a visitor or client: words that fit where they
are and what happened (each test failed before its fix; found by an audit)."""

import re
from html import unescape

from ..pages.conftest import book as book_on_page
from ..pages.conftest import details_page, share
from ..pages.page_parts import booking_form
from .conftest import at, book_as_provider, text


# A client already logged in to the portal is not told to log in to (or book through) the
# portal when a type is for new clients only.
def test_a_portal_refusal_for_new_clients_does_not_tell_a_logged_in_client_to_log_in(
    portal, slug, make_type
):
    discovery = make_type(name="Discovery Call", audience="new_clients", requires_credit=False)
    page = portal.get(
        f"/portal/{slug}/book", query_string={"type": discovery["id"], "start": at(9).isoformat()}
    )
    html = unescape(text(page))
    assert 'data-reason="new_clients_only"' in html
    assert "log in to your client portal" not in html.lower()
    assert "book through your client portal" not in html.lower()


# A booking that used no credit, inside the late-cancel window, is not labelled as forfeiting
# a credit in "My bookings" (the cancel page already says "This booking used no credit").
def test_a_free_booking_inside_the_late_window_is_not_said_to_forfeit_a_credit(
    portal, slug, api, make_type, customer, clock
):
    free = make_type(name="Chat", audience="everyone", requires_credit=False)
    book_as_provider(api, customer["id"], free["id"], at(9))
    clock.advance(days=5, hours=12)  # Mon 30 Nov 02:00 UTC: 12 hours before
    html = text(portal.get(f"/portal/{slug}/bookings"))
    assert "forfeits the credit" not in html


def _taken_meanwhile(client, api, discovery):
    """The visitor's form for Monday 7 December 09:00 is sent after someone else held it."""
    link = share(api, discovery)
    late = booking_form(text(details_page(client, link, discovery, at(9, day=7))))
    first = book_on_page(client, link, discovery, at(9, day=7), email="a@example.com")
    assert first.status_code == 202
    data = {**late.fields, "name": "Second Person", "email": "second@example.com"}
    page = client.post(late.action, data=data)
    assert page.status_code == 409
    [back] = re.findall(r'<a href="([^"]+)">Choose another time</a>', text(page))
    return link, unescape(back)


# A time taken while the form was open: "Choose another time" returns to the week of that time
# (as the details page's own "Choose another time" does), not to today's week.
def test_choose_another_time_after_a_taken_slot_returns_to_its_week(client, api, discovery):
    _, back = _taken_meanwhile(client, api, discovery)
    assert "week=2026-12-07" in back


# A hold that ends on another day says which day: "Open it by 09:00" alone reads as today,
# a time that has already passed.
def test_a_hold_ending_tomorrow_says_the_day_it_ends(client, api, discovery):
    assert api.patch("/api/v1/settings", json={"pending_hold_minutes": 1440}).status_code == 200
    link = share(api, discovery)
    page = book_on_page(client, link, discovery, at(9, day=7))
    assert page.status_code == 202
    [sentence] = re.findall(r"<p>We have sent you a link\.[^<]*</p>", text(page))
    assert "25 November" in sentence or "25 Nov" in sentence, sentence


# A hold is over once its appointment begins (confirm_hold expires it then), so the page does
# not promise it until a later time: a 09:30 slot held for 60 minutes must be confirmed by 09:30.
def test_a_hold_is_not_promised_past_the_appointments_start(client, api, discovery):
    assert api.patch("/api/v1/settings", json={"pending_hold_minutes": 60}).status_code == 200
    link = share(api, discovery)
    today = at(9, 30, day=-6)  # Tuesday 24 November, 09:30 New York; now is 09:00
    page = book_on_page(client, link, discovery, today)
    assert page.status_code == 202
    [sentence] = re.findall(r"<p>We have sent you a link\.[^<]*</p>", text(page))
    assert "by 10:00" not in sentence, sentence

"""The client's bookings: upcoming and past, cancelling (refunded before the late-cancel
window, forfeited inside it) and moving to another free time."""

import re
from html import unescape
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from widget.extensions import db
from widget.models import OutboxMessage

from ..pages.page_parts import read_forms
from .conftest import at, balance, book_as_provider, post, text


@pytest.fixture
def booked(portal, slug, api, follow_up, customer) -> dict[str, Any]:
    """The customer's Follow-Up on Monday 30 November at 09:00, booked in the portal."""
    response = post(
        portal, f"/portal/{slug}/book", {"type": follow_up["id"], "start": at(9).isoformat()}
    )
    assert response.status_code == 302, text(response)
    [booking] = api.get("/api/v1/bookings").get_json()["bookings"]
    return dict(booking)


def booking(api: Any, booking_id: int) -> dict[str, Any]:
    [found] = [
        b for b in api.get("/api/v1/bookings").get_json()["bookings"] if b["id"] == booking_id
    ]
    return dict(found)


def subjects() -> list[str]:
    db.session.rollback()
    return [m.subject for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_upcoming_bookings_offer_cancel_and_reschedule(portal, slug, booked):
    html = text(portal.get(f"/portal/{slug}/bookings"))
    upcoming = html.split('id="upcoming-heading"')[1].split('id="past-heading"')[0]
    assert f'data-booking-id="{booked["id"]}"' in upcoming
    assert "Monday 30 November, 09:00&ndash;09:50" in unescape(upcoming).replace("–", "&ndash;")
    assert f'href="/portal/{slug}/bookings/{booked["id"]}/cancel"' in upcoming
    assert f'href="/portal/{slug}/bookings/{booked["id"]}/move"' in upcoming
    assert "Free to cancel or move until Sun 29 Nov, 09:00" in upcoming


def test_past_and_cancelled_bookings_are_listed_without_actions(portal, slug, api, booked, clock):
    post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    html = text(portal.get(f"/portal/{slug}/bookings"))
    past = html.split('id="past-heading"')[1]
    assert 'data-status="cancelled"' in past and "Cancelled, credit refunded" in past
    assert "/cancel" not in past and "/move" not in past


def test_cancelling_early_refunds_the_credit(portal, slug, api, follow_up, customer, booked):
    page = text(portal.get(f"/portal/{slug}/bookings/{booked['id']}/cancel"))
    assert "Its credit goes back to your account." in page
    response = post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/{slug}/bookings"
    assert "Its credit is back in your account." in text(portal.get(f"/portal/{slug}/bookings"))
    assert booking(api, booked["id"])["status"] == "cancelled"
    assert balance(api, customer["id"], follow_up["id"]) == 2
    assert subjects()[-1] == "Cancelled: Follow-Up with Dr. Ada"


def test_cancelling_inside_the_late_window_forfeits_the_credit(
    portal, slug, api, follow_up, customer, booked, clock
):
    clock.advance(days=5, hours=1)  # Sunday 29 November, 10:00 in New York
    page = text(portal.get(f"/portal/{slug}/bookings/{booked['id']}/cancel"))
    assert "Its credit will not be refunded:" in page
    assert "less than 24 hours" in page
    post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    assert "its credit is not refunded" in text(portal.get(f"/portal/{slug}/bookings"))
    assert booking(api, booked["id"])["status"] == "cancelled"
    assert balance(api, customer["id"], follow_up["id"]) == 1


def test_a_cancelled_booking_cannot_be_cancelled_again(portal, slug, booked):
    post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    again = post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    assert again.status_code == 409
    assert 'data-reason="invalid_state"' in text(again)
    assert portal.get(f"/portal/{slug}/bookings/{booked['id']}/cancel").status_code == 409


def test_a_past_booking_cannot_be_cancelled(portal, slug, booked, clock):
    clock.advance(days=7)
    response = post(portal, f"/portal/{slug}/bookings/{booked['id']}/cancel")
    assert response.status_code == 409
    assert "already started" in text(response)


def move_page(portal: Any, slug: str, booking_id: int, start: Any) -> Any:
    week = portal.get(
        f"/portal/{slug}/bookings/{booking_id}/move",
        query_string={"week": start.date().isoformat()},
    )
    assert week.status_code == 200, text(week)
    links = [unescape(h) for h in re.findall(r'<a class="slot" href="([^"]+)"', text(week))]
    [link] = [h for h in links if start.isoformat() in unquote(h)]
    return portal.get(link)


def test_rescheduling_moves_the_booking_and_keeps_its_credit(
    portal, slug, api, follow_up, customer, booked
):
    page = move_page(portal, slug, booked["id"], at(11, 30, day=1))
    assert "The credit it used stays with it." in text(page)
    [form] = [f for f in read_forms(text(page))[0] if f.method == "post" and "/move" in f.action]
    response = portal.post(form.action, data=form.fields)
    assert response.status_code == 302
    assert "Moved: Follow-Up is now Tuesday 1 December at 11:30." in text(
        portal.get(f"/portal/{slug}/bookings")
    )
    moved = booking(api, booked["id"])
    assert (moved["status"], moved["start"]) == ("confirmed", at(11, 30, day=1).isoformat())
    assert balance(api, customer["id"], follow_up["id"]) == 1
    assert subjects()[-1] == "Moved: Follow-Up with Dr. Ada"  # the new time, a new manage link


def test_moving_to_a_time_taken_meanwhile_shows_the_week_again(
    portal, slug, api, make_client, buy, spring_reset, follow_up, booked
):
    page = move_page(portal, slug, booked["id"], at(11, 30, day=1))
    someone = make_client(email="noor@example.com", name="Noor")
    buy(someone["id"], spring_reset["id"])
    book_as_provider(api, someone["id"], follow_up["id"], at(11, 30, day=1))
    [form] = [f for f in read_forms(text(page))[0] if f.method == "post" and "/move" in f.action]
    response = portal.post(form.action, data=form.fields)
    assert response.status_code == 409
    assert "This time has just been taken." in text(response)
    assert booking(api, booked["id"])["start"] == at(9).isoformat()


def test_a_booking_inside_the_late_window_cannot_be_moved_online(portal, slug, api, booked, clock):
    clock.advance(days=5, hours=1)
    page = portal.get(f"/portal/{slug}/bookings/{booked['id']}/move")
    assert page.status_code == 409
    assert "too close to move online; please contact Dr. Ada" in text(page)
    response = post(
        portal,
        f"/portal/{slug}/bookings/{booked['id']}/move",
        {"start": at(11, 30, day=1).isoformat()},
    )
    assert response.status_code == 409
    assert booking(api, booked["id"])["start"] == at(9).isoformat()
    bookings_page = text(portal.get(f"/portal/{slug}/bookings"))
    assert "Inside the late-cancellation window" in bookings_page
    assert f"/bookings/{booked['id']}/move" not in bookings_page


def test_a_booking_of_a_type_capped_per_day_can_move_later_the_same_day(
    portal, slug, api, follow_up, booked
):
    # Its own place in the day's cap is not in the way of its new time.
    assert (
        api.patch(
            f"/api/v1/appointment-types/{follow_up['id']}", json={"max_per_day": 1}
        ).status_code
        == 200
    )
    page = move_page(portal, slug, booked["id"], at(11, 30))
    [form] = [f for f in read_forms(text(page))[0] if f.method == "post" and "/move" in f.action]
    assert portal.post(form.action, data=form.fields).status_code == 302
    assert booking(api, booked["id"])["start"] == at(11, 30).isoformat()

"""Manage links in booking emails: cancel or move a booking without logging in, under the
portal's rules, and a link that stops working once the booking changes."""

import re
from datetime import timedelta

import icalendar
import pytest

from widget.extensions import db
from widget.models import OutboxMessage

from ..api.helpers import created, post_booking
from .conftest import at, ok, share


@pytest.fixture
def client_with_credits(api, make_client, make_package, buy, follow_up):
    person = make_client(email="kim@example.com", name="Kim")
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}])
    buy(person["id"], package["id"])
    return person


@pytest.fixture
def booked(client, api, follow_up, client_with_credits):
    """Kim books 10:40 on Monday through her personal link: confirmed, one credit spent."""
    link = share(api, follow_up, client_id=client_with_credits["id"])
    response = client.post(
        f"/api/v1/links/{link['token']}/bookings",
        json={"appointment_type_id": follow_up["id"], "start": at(10, 40).isoformat()},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["booking"]


def newest_email(subject_start):
    message = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.subject.startswith(subject_start))
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no email '{subject_start}...'"
    return message


def manage_path(subject_start="Booked:"):
    body = newest_email(subject_start).text_body
    return re.search(r"https?://[^/\s]+(/manage/\S+)", body).group(1)


def balance(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))["balance"]


def status_of(api, booking_id):
    return ok(api.get(f"/api/v1/bookings/{booking_id}"))


def test_the_confirmation_email_links_to_a_page_about_the_booking(client, booked):
    page = client.get(manage_path())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Follow-Up" in html and "10:40" in html
    assert "the credit goes back to your account" in html
    assert 'name="start"' in html  # free times to move to


def test_cancelling_early_refunds_the_credit_and_closes_the_link(
    client, api, booked, client_with_credits, follow_up
):
    path = manage_path()
    page = client.post(f"{path}/cancel")
    assert page.status_code == 200
    assert "credit is back" in page.get_data(as_text=True)
    assert status_of(api, booked["id"])["status"] == "cancelled"
    assert balance(api, client_with_credits["id"], follow_up["id"]) == 2
    email = newest_email("Cancelled:")
    invite = icalendar.Calendar.from_ical(email.ics)
    assert invite["method"] == "CANCEL"
    again = client.get(path)
    assert again.status_code == 410
    assert "booking_cancelled" in again.get_data(as_text=True)


def test_cancelling_inside_the_late_window_forfeits_the_credit(
    client, api, booked, client_with_credits, follow_up, clock
):
    clock.now = at(10, 40) - timedelta(hours=3)
    path = manage_path()
    assert "not refunded" in client.get(path).get_data(as_text=True)
    page = client.post(f"{path}/cancel")
    assert page.status_code == 200
    assert "not refunded" in page.get_data(as_text=True)
    assert balance(api, client_with_credits["id"], follow_up["id"]) == 1
    history = ok(api.get(f"/api/v1/clients/{client_with_credits['id']}/credits/{follow_up['id']}"))[
        "history"
    ]
    assert history[-1]["kind"] == "late_cancellation"


def test_moving_keeps_the_credit_and_sends_a_new_link(
    client, api, booked, client_with_credits, follow_up
):
    old = manage_path()
    new_start = at(11, 30, day=1)
    page = client.post(f"{old}/reschedule", data={"start": new_start.isoformat()})
    assert page.status_code == 200, page.get_data(as_text=True)
    moved = status_of(api, booked["id"])
    assert (moved["status"], moved["start"]) == ("confirmed", new_start.isoformat())
    assert balance(api, client_with_credits["id"], follow_up["id"]) == 1
    stale = client.get(old)
    assert stale.status_code == 410
    assert "booking_moved" in stale.get_data(as_text=True)
    moved_mail = newest_email("Moved:")
    assert moved_mail.subject == "Moved: Follow-Up with Dr. Ada 1"
    assert "has moved to Tuesday 01 December 2026, 11:30" in moved_mail.text_body
    assert moved_mail.ics is not None and "DTSTART:20261201T163000Z" in moved_mail.ics
    fresh = manage_path("Moved:")
    assert fresh != old
    assert client.get(fresh).status_code == 200


def test_moving_to_a_taken_time_says_so_and_keeps_the_booking(
    client, api, booked, make_client, follow_up, client_with_credits
):
    other = make_client(email="lee@example.com", name="Lee")
    taken = at(9, 0)
    ok_response = api.post(
        "/api/v1/bookings",
        json={
            "client_id": other["id"],
            "appointment_type_id": follow_up["id"],
            "start": taken.isoformat(),
            "allow_negative": True,
        },
    )
    assert ok_response.status_code == 201
    page = client.post(f"{manage_path()}/reschedule", data={"start": taken.isoformat()})
    assert page.status_code == 409
    assert status_of(api, booked["id"])["start"] == at(10, 40).isoformat()


def test_a_booking_cannot_be_moved_online_inside_the_late_window(client, api, booked, clock):
    clock.now = at(10, 40) - timedelta(hours=3)
    path = manage_path()
    assert "too close to move online" in client.get(path).get_data(as_text=True)
    page = client.post(f"{path}/reschedule", data={"start": at(11, 30, day=1).isoformat()})
    assert page.status_code == 409
    assert status_of(api, booked["id"])["start"] == at(10, 40).isoformat()


def test_the_link_stops_working_once_the_appointment_has_passed(client, booked, clock):
    clock.now = at(12, 0)
    page = client.get(manage_path())
    assert page.status_code == 410
    assert "booking_past" in page.get_data(as_text=True)


def test_a_tampered_manage_link_is_not_found(client, booked):
    path = manage_path()
    assert client.get(path[:-3] + "abc").status_code == 404


def test_a_change_sent_from_another_site_is_refused(client, api, booked):
    page = client.post(f"{manage_path()}/cancel", headers={"Origin": "https://evil.example"})
    assert page.status_code == 403
    assert status_of(api, booked["id"])["status"] == "confirmed"


def test_a_bad_time_is_a_clear_error(client, booked):
    page = client.post(f"{manage_path()}/reschedule", data={"start": "tomorrow"})
    assert page.status_code == 400


def offered_starts(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return re.findall(r'name="start" value="([^"]+)"', page.get_data(as_text=True))


# The booking being moved is not in the way of its own new time, on the page as in the
# domain's reschedule: neither a time overlapping only itself nor, for a type capped per
# day, the rest of its day.
@pytest.mark.parametrize(
    ("kind", "booked_at", "offered"),
    [
        ({"duration_minutes": 60, "slot_step_minutes": 30}, at(10), [at(9, 30), at(10, 30)]),
        ({"duration_minutes": 50, "max_per_day": 1}, at(9), [at(10, 40)]),
    ],
)
def test_a_move_is_offered_times_only_the_booking_itself_was_in_the_way_of(
    client, api, make_type, make_client, kind, booked_at, offered
):
    moving = make_type(name="Moving", audience="everyone", requires_credit=False, **kind)
    person = make_client()
    start = booked_at.isoformat()
    created(post_booking(api, person["id"], moving["id"], start, notify_client=True))
    shown = offered_starts(client, manage_path())
    assert all(start.isoformat() in shown for start in offered), shown

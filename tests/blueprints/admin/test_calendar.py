"""The bookings calendar: day and week views in the provider's zone, booking on a client's
behalf (with the explicit override), cancelling with and without a late mark."""

import re

import pytest

from widget.extensions import db
from widget.models import OutboxMessage

from .conftest import at, field_error, value_of, words

MONDAY = "2026-11-30"


@pytest.fixture(autouse=True)
def hours(open_week):
    return open_week


def book(dashboard, client, appointment_type, time="09:00", **extra):
    data = {
        "client_id": client["id"],
        "appointment_type_id": appointment_type["id"],
        "day": MONDAY,
        "time": time,
        **extra,
    }
    return dashboard.post("/admin/bookings/new", data)


def history(api, client, appointment_type):
    path = f"/api/v1/clients/{client['id']}/credits/{appointment_type['id']}"
    return api.get(path).get_json()


def test_booking_without_credit_is_refused_and_the_form_keeps_its_values(
    dashboard, grace, follow_up, api
):
    response = book(dashboard, grace, follow_up)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "No credit is left for this appointment type." in words(html)
    assert value_of(html, "client_id") == str(grace["id"])
    assert value_of(html, "time") == "09:00"
    assert api.get("/api/v1/bookings").get_json()["bookings"] == []


def test_the_override_books_without_credit_and_the_history_marks_it(
    dashboard, grace, follow_up, api
):
    response = book(dashboard, grace, follow_up, allow_negative="y")
    assert response.status_code == 302
    page = dashboard.page(response.headers["Location"])
    assert "Booked Follow-Up for Grace Hopper on Mon 30 Nov 2026, 09:00. One credit spent." in (
        words(page)
    )
    [entry] = history(api, grace, follow_up)["history"]
    assert (entry["kind"], entry["override"], entry["balance_after"]) == ("booking", True, -1)
    page = dashboard.page(f"/admin/clients/{grace['id']}/credits/{follow_up['id']}")
    assert "Booked by Dr. Ada 1 beyond the credit limit." in words(page)


def test_booking_with_a_credit_spends_it_and_emails_the_client(
    dashboard, grace, spring, buy, follow_up, api
):
    buy(grace["id"], spring["id"])
    assert book(dashboard, grace, follow_up).status_code == 302
    assert history(api, grace, follow_up)["balance"] == 3
    [mail] = db.session.query(OutboxMessage).all()
    assert mail.recipient == "grace@example.com" and mail.subject.startswith("Booked:")


def test_a_time_outside_the_hours_is_shown_beside_the_time_field(dashboard, grace, discovery):
    response = book(dashboard, grace, discovery, time="20:00")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "time")
    assert value_of(html, "time") == "20:00"
    response = book(dashboard, grace, discovery, time="", day="someday")
    html = response.get_data(as_text=True)
    assert field_error(html, "day") == "Choose a day (YYYY-MM-DD)."
    assert field_error(html, "time") == "Choose a time (HH:MM)."


def test_the_booking_form_lists_the_free_times_of_the_chosen_day(dashboard, grace, discovery):
    html = dashboard.page(
        "/admin/bookings/new",
        client_id=grace["id"],
        appointment_type_id=discovery["id"],
        day=MONDAY,
    )
    chips = re.findall(r'class="chip[^"]*" href="[^"]*">(\d\d:\d\d)</a>', html)
    assert chips[:3] == ["09:00", "09:30", "10:00"] and chips[-1] == "16:30"


def confirmed_booking(dashboard, grace, spring, buy, follow_up):
    buy(grace["id"], spring["id"])
    response = book(dashboard, grace, follow_up)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_cancelling_refunds_the_credit(dashboard, grace, spring, buy, follow_up, api):
    booking_id = confirmed_booking(dashboard, grace, spring, buy, follow_up)
    page = dashboard.follow(f"/admin/bookings/{booking_id}/cancel", {"reason": "sick"})
    assert "The credit was refunded." in words(page)
    assert history(api, grace, follow_up)["balance"] == 4
    booking = api.get(f"/api/v1/bookings/{booking_id}").get_json()
    assert (booking["status"], booking["cancel_reason"]) == ("cancelled", "sick")


def test_a_late_cancellation_keeps_the_credit_spent(dashboard, grace, spring, buy, follow_up, api):
    booking_id = confirmed_booking(dashboard, grace, spring, buy, follow_up)
    page = dashboard.follow(f"/admin/bookings/{booking_id}/cancel", {"late": "y"})
    assert "Cancelled late: the credit stays spent." in words(page)
    account = history(api, grace, follow_up)
    assert account["balance"] == 3
    assert account["history"][-1]["kind"] == "late_cancellation"
    again = dashboard.post(f"/admin/bookings/{booking_id}/cancel")
    assert again.status_code == 409


def test_the_day_view_lists_bookings_at_the_providers_local_times(dashboard, grace, discovery, api):
    api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": discovery["id"],
            "start": "2026-11-30T14:00:00+00:00",
        },
    )
    page = dashboard.page("/admin/calendar", view="day", day=MONDAY)
    assert '<time datetime="2026-11-30T09:00:00-05:00">09:00</time>–09:30' in page
    assert "Grace Hopper" in words(page) and "Mon 30 Nov 2026" in words(page)
    assert "No appointments on this day." in words(
        dashboard.page("/admin/calendar", view="day", day="2026-12-01")
    )


def test_the_week_view_puts_a_late_evening_booking_on_its_local_day(
    dashboard, grace, discovery, api
):
    evening = {"weekly": {"mon": [{"start": "20:00", "end": "24:00"}]}}
    assert api.put("/api/v1/availability", json=evening).status_code == 200
    made = api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": discovery["id"],
            "start": at(23).isoformat(),  # 04:00 on Tuesday in UTC
        },
    ).get_json()
    page = dashboard.page("/admin/calendar", view="week", day="2026-12-02")
    monday = re.search(r'aria-labelledby="day-2026-11-30">(.*?)</section>', page, re.S).group(1)
    assert f'data-booking="{made["id"]}"' in monday and "23:00 –23:30" in words(monday)
    assert "Week of Mon 30 Nov – Sun 6 Dec" in words(page)


def test_a_no_show_and_a_move_are_made_from_the_booking_page(
    dashboard, grace, discovery, api, clock
):
    made = api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": discovery["id"],
            "start": at(9).isoformat(),
        },
    ).get_json()
    page = dashboard.follow(
        f"/admin/bookings/{made['id']}/reschedule", {"day": MONDAY, "time": "10:00"}
    )
    assert "Moved to Mon 30 Nov 2026, 10:00." in words(page)
    told = db.session.query(OutboxMessage).filter_by(recipient="grace@example.com").all()
    assert [m.subject for m in told] == ["Moved: Discovery Call with Dr. Ada 1"]
    taken = dashboard.post(
        f"/admin/bookings/{made['id']}/reschedule", {"day": MONDAY, "time": "18:00"}
    )
    assert taken.status_code == 422 and field_error(taken.get_data(as_text=True), "time")
    clock.advance(days=7)
    page = dashboard.follow(f"/admin/bookings/{made['id']}/no-show")
    assert "Marked Grace Hopper as a no-show." in words(page)
    assert api.get(f"/api/v1/bookings/{made['id']}").get_json()["status"] == "no_show"


def test_odd_days_and_ids_in_the_address_fall_back_quietly(dashboard, discovery):
    for day in ("0001-01-01", "9999-12-31", "soon"):
        assert dashboard.get("/admin/calendar", day=day).status_code == 200
    html = dashboard.page(
        "/admin/bookings/new", appointment_type_id="99999999999", day="9999-12-31"
    )
    assert "Free that day" not in words(html)


def test_a_no_show_of_a_free_booking_does_not_speak_of_a_credit(
    dashboard, open_week, grace, discovery, clock
):
    response = book(dashboard, grace, discovery)
    assert response.status_code == 302
    path = response.headers["Location"]
    assert "credit stays spent" not in dashboard.get(path).get_data(as_text=True)  # the dialog
    clock.advance(days=7)
    page = dashboard.follow(f"{path}/no-show")
    assert "Marked" in words(page) and "credit stays spent" not in words(page)

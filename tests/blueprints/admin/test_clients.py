"""Clients in the dashboard: search, profiles, purchases, archived packages, credit history."""

import re

from .conftest import field_error, value_of, words


def balance_on(html: str, type_id: int) -> int:
    row = re.search(rf'<tr data-type="{type_id}">.*?data-balance="(-?\d+)"', html, re.S)
    assert row, "no balance row for this type"
    return int(row.group(1))


def test_clients_are_found_by_part_of_their_name_or_email(dashboard, make_client):
    make_client(name="Grace Hopper", email="grace@navy.example")
    make_client(name="Alan Turing", email="alan@bletchley.example")
    by_name = words(dashboard.page("/admin/clients", q="hopp"))
    assert "Grace Hopper" in by_name and "Alan Turing" not in by_name
    by_email = words(dashboard.page("/admin/clients", q="BLETCHLEY"))
    assert "Alan Turing" in by_email and "Grace Hopper" not in by_email
    assert "No client matches" in words(dashboard.page("/admin/clients", q="nobody"))


def test_adding_a_client_opens_their_profile(dashboard, api):
    page = dashboard.follow("/admin/clients", {"name": "Ada", "email": " ADA@Example.com "})
    assert "Added Ada." in words(page) and "ada@example.com" in page
    assert api.get("/api/v1/clients", email="ada@example.com").get_json()["clients"]


def test_a_bad_client_email_is_shown_beside_the_field_with_what_was_typed(dashboard, grace):
    response = dashboard.post("/admin/clients", {"name": "Eve <3", "email": "not-an-email"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "email")
    assert value_of(html, "email") == "not-an-email"
    assert value_of(html, "name") == "Eve <3"
    taken = dashboard.post("/admin/clients", {"name": "G", "email": grace["email"]})
    html = taken.get_data(as_text=True)
    assert "exists already" in field_error(html, "email")


def test_recording_a_purchase_shows_the_grants_and_the_balance(dashboard, grace, spring, follow_up):
    page = dashboard.follow(f"/admin/clients/{grace['id']}/packages", {"package_id": spring["id"]})
    assert "Recorded 'Spring Reset' for Grace Hopper: +4 Follow-Up." in words(page)
    row = re.search(r"<tr data-client-package=.*?</tr>", page, re.S).group(0)
    assert "+4 Follow-Up" in words(row) and "Active" in words(row)
    assert balance_on(page, follow_up["id"]) == 4
    assert "Existing client" in words(page)


def test_a_purchase_without_a_package_is_refused_beside_the_field(dashboard, grace, spring, api):
    response = dashboard.post(f"/admin/clients/{grace['id']}/packages", {"package_id": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "package_id")
    assert api.get(f"/api/v1/clients/{grace['id']}/packages").get_json()["client_packages"] == []


def test_archiving_or_deleting_a_package_keeps_its_credits_and_says_so(
    dashboard, grace, spring, buy, follow_up, api
):
    bought = buy(grace["id"], spring["id"])
    profile = f"/admin/clients/{grace['id']}"
    assert "the credits it granted stay" in words(dashboard.page(profile))

    page = dashboard.follow(f"/admin/client-packages/{bought['id']}/archive")
    assert "Archived 'Spring Reset'. Its credits stay with the client" in words(page)
    assert balance_on(page, follow_up["id"]) == 4
    row = re.search(r"<tr data-client-package=.*?</tr>", page, re.S).group(0)
    assert "Archived" in words(row) and "Archive" not in words(row).replace("Archived", "")

    page = dashboard.follow(f"/admin/client-packages/{bought['id']}/delete")
    assert "Deleted 'Spring Reset'. Its credits stay with the client" in words(page)
    assert balance_on(page, follow_up["id"]) == 4
    history = api.get(f"/api/v1/clients/{grace['id']}/credits/{follow_up['id']}").get_json()
    assert [e["kind"] for e in history["history"]] == ["package_grant"]


def test_the_history_shows_each_cause_with_its_running_balance(
    dashboard, grace, spring, buy, follow_up, api, open_week
):
    buy(grace["id"], spring["id"])
    booked = api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": follow_up["id"],
            "start": "2026-11-30T09:00:00-05:00",
        },
    ).get_json()
    api.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"late": True})
    page = dashboard.page(f"/admin/clients/{grace['id']}/credits/{follow_up['id']}")
    rows = re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S)
    assert [(kind, re.findall(r'data-balance-after="(-?\d+)"', row)) for kind, row in rows] == [
        ("late_cancellation", ["3"]),
        ("booking", ["3"]),
        ("package_grant", ["4"]),
    ]
    text = words(page)
    assert "Bought package 'Spring Reset' on 24 Nov: +4" in text
    assert "Cancelled late on 24 Nov: credit forfeited" in text


def test_a_manual_adjustment_needs_a_note_and_keeps_what_was_typed(dashboard, grace, follow_up):
    path = f"/admin/clients/{grace['id']}/credits/{follow_up['id']}"
    response = dashboard.post(path, {"delta": "2", "note": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "note") == "Must not be empty."
    assert value_of(html, "delta") == "2"
    response = dashboard.post(path, {"delta": "two", "note": "goodwill"})
    html = response.get_data(as_text=True)
    assert field_error(html, "delta") == "Must be a whole number."
    assert value_of(html, "note") == "goodwill"
    assert "Must not be zero." in field_error(
        dashboard.post(path, {"delta": "0", "note": "x"}).get_data(as_text=True), "delta"
    )


def test_a_manual_adjustment_changes_the_balance_and_names_who_made_it(
    dashboard, grace, follow_up, api
):
    path = f"/admin/clients/{grace['id']}/credits/{follow_up['id']}"
    page = dashboard.follow(path, {"delta": "-1", "note": "booked by phone"})
    assert "Adjusted by -1. The balance is now -1." in words(page)
    assert "Adjusted by Dr. Ada 1: -1, 'booked by phone'" in words(page)
    entry = api.get(f"/api/v1/clients/{grace['id']}/credits/{follow_up['id']}").get_json()
    assert entry["balance"] == -1
    assert entry["history"][0]["note"] == "booked by phone"

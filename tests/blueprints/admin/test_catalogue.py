"""Appointment types, weekly hours with exceptions, and packages, made in the dashboard."""

from .conftest import field_error, value_of, words

TYPE = {
    "name": "Massage",
    "duration_minutes": "60",
    "audience": "everyone",
    "requires_credit": "y",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "15",
    "min_notice_minutes": "120",
    "max_days_ahead": "30",
}


def only_type(api):
    [found] = api.get("/api/v1/appointment-types").get_json()["appointment_types"]
    return found


def test_creating_editing_and_deactivating_a_type(dashboard, api):
    page = dashboard.follow("/admin/types/new", TYPE)
    assert "Created 'Massage'." in words(page)
    made = only_type(api)
    assert (made["duration_minutes"], made["slot_step_minutes"], made["requires_credit"]) == (
        60,
        60,
        True,
    )
    assert (made["buffer_after_minutes"], made["max_per_day"], made["active"]) == (15, None, True)

    edit = dashboard.page(f"/admin/types/{made['id']}")
    assert value_of(edit, "min_notice_minutes") == "120"
    dashboard.follow(
        f"/admin/types/{made['id']}", {**TYPE, "name": "Deep Massage", "max_per_day": "3"}
    )
    changed = only_type(api)
    assert (changed["name"], changed["max_per_day"], changed["active"]) == ("Deep Massage", 3, True)

    page = dashboard.follow(f"/admin/types/{made['id']}/deactivate")
    assert "Deactivated 'Deep Massage'" in words(page) and "Inactive" in words(page)
    assert only_type(api)["active"] is False
    dashboard.follow(f"/admin/types/{made['id']}/activate")
    assert only_type(api)["active"] is True


def test_a_type_form_shows_each_error_beside_its_field(dashboard, api):
    response = dashboard.post("/admin/types/new", {**TYPE, "duration_minutes": "an hour"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "duration_minutes") == "Must be a whole number."
    assert value_of(html, "duration_minutes") == "an hour"
    assert value_of(html, "name") == "Massage"
    response = dashboard.post("/admin/types/new", {**TYPE, "audience": "new_clients"})
    html = response.get_data(as_text=True)
    assert "cannot require a credit" in field_error(html, "requires_credit")
    assert api.get("/api/v1/appointment-types").get_json()["appointment_types"] == []


def test_hours_with_an_exception_are_saved(dashboard, api):
    form = {
        "mon": "09:00-12:00, 13:00-17:00",
        "tue": "10:00-16:00",
        "exceptions-0-day": "2026-12-24",
        "exceptions-0-hours": "09:00-13:00",
        "exceptions-1-day": "2026-12-25",
        "exceptions-1-hours": "",
        "exceptions-2-day": "",
        "exceptions-2-hours": "",
    }
    page = dashboard.follow("/admin/hours", form)
    assert "Your hours are saved." in words(page)
    assert value_of(page, "mon") == "09:00-12:00, 13:00-17:00"
    assert value_of(page, "exceptions-1-day") == "2026-12-25"
    stored = api.get("/api/v1/availability").get_json()
    assert stored["weekly"]["mon"] == [
        {"start": "09:00", "end": "12:00"},
        {"start": "13:00", "end": "17:00"},
    ]
    assert stored["weekly"]["wed"] == []
    assert stored["exceptions"] == [
        {"date": "2026-12-24", "hours": [{"start": "09:00", "end": "13:00"}]},
        {"date": "2026-12-25", "closed": True},
    ]


def test_unreadable_hours_are_refused_beside_their_day(dashboard, api):
    response = dashboard.post(
        "/admin/hours",
        {
            "mon": "nine to five",
            "tue": "17:00-09:00",
            "exceptions-0-day": "2026-12-24",
            "exceptions-0-hours": "all day",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "mon") == "Write hours like 09:00-12:00, 13:00-17:00."
    assert field_error(html, "exceptions-0-hours") == "Write hours like 09:00-12:00, 13:00-17:00."
    assert value_of(html, "mon") == "nine to five"
    response = dashboard.post("/admin/hours", {"tue": "17:00-09:00"})
    assert "end before they start" in field_error(response.get_data(as_text=True), "tue")
    assert api.get("/api/v1/availability").get_json()["weekly"]["tue"] == []


def test_creating_a_package(dashboard, follow_up, discovery, api):
    form = {
        "name": "Spring Reset",
        "price": "400.50",
        "items-0-appointment_type_id": str(follow_up["id"]),
        "items-0-quantity": "4",
        "items-0-expires_after_days": "90",
        "items-1-appointment_type_id": "",
        "items-1-quantity": "",
        "items-2-appointment_type_id": str(discovery["id"]),
        "items-2-quantity": "1",
    }
    page = dashboard.follow("/admin/packages", form)
    assert "Created the package 'Spring Reset'." in words(page)
    assert "4 × Follow-Up (expire after 90 days)" in words(page) and "400.50" in words(page)
    [made] = api.get("/api/v1/packages").get_json()["packages"]
    assert made["price_cents"] == 40050
    assert [(i["appointment_type_id"], i["quantity"]) for i in made["items"]] == [
        (follow_up["id"], 4),
        (discovery["id"], 1),
    ]


def test_a_package_form_shows_each_error_beside_its_field(dashboard, follow_up, api):
    response = dashboard.post(
        "/admin/packages",
        {
            "name": "Spring",
            "price": "four hundred",
            "items-0-appointment_type_id": "",
            "items-1-appointment_type_id": str(follow_up["id"]),
            "items-1-quantity": "0",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "price") == "Write a price like 120 or 120.50."
    assert field_error(html, "items-1-quantity") == "Must be greater than 0."
    assert value_of(html, "price") == "four hundred"
    assert value_of(html, "items-1-appointment_type_id") == str(follow_up["id"])
    assert api.get("/api/v1/packages").get_json()["packages"] == []


def test_a_package_is_taken_off_sale_and_put_back_from_its_list(
    dashboard, follow_up, api, make_package
):
    made = make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])
    page = dashboard.follow(f"/admin/packages/{made['id']}/stop-selling")
    assert "'Spring Reset' is no longer sold. Clients who bought it keep their credits." in words(
        page
    )
    assert "Spring Reset (no longer sold)" in words(page) and "Sell again" in words(page)
    assert api.get(f"/api/v1/packages/{made['id']}").get_json()["active"] is False
    page = dashboard.follow(f"/admin/packages/{made['id']}/sell-again")
    assert "'Spring Reset' is on sale again." in words(page) and "Stop selling" in words(page)
    assert api.get(f"/api/v1/packages/{made['id']}").get_json()["active"] is True

"""Webhooks in the dashboard: an endpoint added with its events, its secret and delivery log."""

from widget.extensions import db
from widget.models import WebhookDelivery

from .conftest import at, field_error, value_of, words


def test_an_endpoint_is_added_and_its_log_shows_what_was_sent(
    dashboard, api, follow_up, grace, make_package, buy, open_week
):
    page = dashboard.follow(
        "/admin/webhooks",
        {"url": "http://127.0.0.1:9/hooks", "events": ["booking.confirmed", "credits.changed"]},
    )
    [endpoint] = api.get("/api/v1/webhooks").get_json()["webhooks"]
    assert endpoint["events"] == ["booking.confirmed", "credits.changed"]
    assert value_of(page, "secret") == endpoint["secret"]
    buy(grace["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])["id"])
    booked = api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": follow_up["id"],
            "start": at(9).isoformat(),
        },
    )
    booked.close()  # nothing listens on port 9: every call fails and waits for a retry
    log = words(dashboard.page(f"/admin/webhooks/{endpoint['id']}"))
    assert log.count("credits.changed") == 2 and "booking.confirmed" in log
    assert "Retrying after" in log
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)) == 3


def test_a_bad_endpoint_is_refused_beside_its_field_and_kept(dashboard, api):
    response = dashboard.post("/admin/webhooks", {"url": "ftp://clinic.example"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "url").startswith("Must be an http(s) URL")
    assert value_of(html, "url") == "ftp://clinic.example"
    assert api.get("/api/v1/webhooks").get_json()["webhooks"] == []


def test_removing_an_endpoint_stops_its_calls(dashboard, api):
    dashboard.follow(
        "/admin/webhooks", {"url": "https://clinic.example/h", "events": ["booking.cancelled"]}
    )
    [endpoint] = api.get("/api/v1/webhooks").get_json()["webhooks"]
    page = dashboard.follow(f"/admin/webhooks/{endpoint['id']}/delete")
    assert "Removed https://clinic.example/h" in words(page)
    assert api.get("/api/v1/webhooks").get_json()["webhooks"] == []


def test_another_providers_endpoint_is_not_found(dashboard, create_provider):
    stranger = create_provider().api
    other = stranger.post(
        "/api/v1/webhooks", json={"url": "https://x.example/h", "events": ["booking.created"]}
    )
    assert dashboard.get(f"/admin/webhooks/{other.get_json()['id']}").status_code == 404
    assert dashboard.post(f"/admin/webhooks/{other.get_json()['id']}/delete").status_code == 404


def test_a_delivery_given_up_on_says_so_in_the_log(
    dashboard, api, follow_up, grace, make_package, buy, open_week, clock
):
    dashboard.follow(
        "/admin/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["booking.confirmed"]}
    )
    [endpoint] = api.get("/api/v1/webhooks").get_json()["webhooks"]
    buy(grace["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])["id"])
    api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": follow_up["id"],
            "start": at(9).isoformat(),
        },
    ).close()
    clock.advance(days=3)
    result = dashboard.http.application.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "webhook_deliveries: 0 sent, 1 failed" in result.output
    log = words(dashboard.page(f"/admin/webhooks/{endpoint['id']}"))
    assert "Gave up" in log and "three days after it was made" in log
    assert "Retrying after" not in log

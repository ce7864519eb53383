"""Who may see the dashboard: a logged-in provider, their own objects only, forms with CSRF."""

from typing import Any

from .conftest import PASSWORD, at, log_in, words

PAGES = [
    "/admin/",
    "/admin/clients",
    "/admin/calendar",
    "/admin/bookings/new",
    "/admin/links",
    "/admin/types",
    "/admin/types/new",
    "/admin/hours",
    "/admin/packages",
    "/admin/settings",
]


def test_every_dashboard_page_sends_a_stranger_to_the_login_page(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == f"/admin/login?next={path}"


def test_a_wrong_password_answers_401_and_opens_nothing(client, with_password):
    response = log_in(client, with_password.email, "not " + PASSWORD)
    assert response.status_code == 401
    assert "do not match an account" in words(response.get_data(as_text=True))
    assert client.get("/admin/clients").status_code == 302


def test_every_page_opens_for_the_provider(dashboard, follow_up, grace, spring, buy):
    buy(grace["id"], spring["id"])
    for path in PAGES:
        assert dashboard.get(path).status_code == 200, path


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(dashboard, api):
    response = dashboard.http.post("/admin/clients", data={"name": "Eve", "email": "e@example.com"})
    assert response.status_code == 400
    assert "This form has expired" in words(response.get_data(as_text=True))
    assert api.get("/api/v1/clients").get_json()["clients"] == []


def test_another_providers_objects_are_not_found(dashboard, create_provider, open_week):
    other = create_provider().api
    assert other.put("/api/v1/availability", json={"weekly": {"mon": []}}).status_code == 200
    kind = {"name": "Theirs", "duration_minutes": 30, "audience": "everyone"}
    type_id = other.post("/api/v1/appointment-types", json={**kind, "requires_credit": False})
    type_id = type_id.get_json()["id"]
    client_id = other.post("/api/v1/clients", json={"name": "C", "email": "c@example.com"})
    client_id = client_id.get_json()["id"]
    package = other.post(
        "/api/v1/packages",
        json={
            "name": "P",
            "price_cents": 0,
            "items": [{"appointment_type_id": type_id, "quantity": 1}],
        },
    ).get_json()
    bought = other.post(f"/api/v1/clients/{client_id}/packages", json={"package_id": package["id"]})
    other.put(
        "/api/v1/availability", json={"weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}}
    )
    booking = other.post(
        "/api/v1/bookings",
        json={"client_id": client_id, "appointment_type_id": type_id, "start": at(9).isoformat()},
    ).get_json()
    link = other.post(
        "/api/v1/share-links", json={"appointment_type_ids": [type_id], "client_id": client_id}
    ).get_json()
    cp = bought.get_json()["id"]

    pages = [
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/credits/{type_id}",
        f"/admin/types/{type_id}",
        f"/admin/bookings/{booking['id']}",
        f"/admin/links/{link['id']}",
    ]
    for path in pages:
        assert dashboard.get(path).status_code == 404, path
    actions: list[tuple[str, dict[str, Any]]] = [
        (f"/admin/clients/{client_id}/packages", {"package_id": package["id"]}),
        (f"/admin/clients/{client_id}/credits/{type_id}", {"delta": "1", "note": "x"}),
        (f"/admin/client-packages/{cp}/archive", {}),
        (f"/admin/client-packages/{cp}/delete", {}),
        (f"/admin/types/{type_id}/deactivate", {}),
        (f"/admin/bookings/{booking['id']}/cancel", {}),
        (f"/admin/links/{link['id']}/revoke", {}),
    ]
    for path, data in actions:
        response = dashboard.post(path, data)
        assert response.status_code == 404, path
        assert "Not found" in words(response.get_data(as_text=True))
    assert other.get(f"/api/v1/bookings/{booking['id']}").get_json()["status"] == "confirmed"
    assert other.get("/api/v1/share-links").get_json()["share_links"][0]["revoked"] is False

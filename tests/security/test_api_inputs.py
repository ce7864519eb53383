"""Hostile input to the API: SQL metacharacters in every parameter and field, oversized bodies.

Every answer is a 4xx or a correct (possibly empty) result, never a 500; text fields
store the attack verbatim as data; the tables are intact afterwards.
"""

from typing import Any

import pytest

from .conftest import MONDAY, World, ok

SQL = ("' OR 1=1 --", '"; DROP TABLE clients; --', "1; DELETE FROM bookings", "%' --")


def _bodies(world: World) -> dict[str, dict[str, Any]]:
    """A valid body for each write endpoint of the provider API."""
    kind = world.type_id
    return {
        "/api/v1/clients": {"email": "sql@example.com", "name": "Sql"},
        "/api/v1/appointment-types": {
            "name": "Sql",
            "duration_minutes": 30,
            "audience": "everyone",
            "requires_credit": False,
        },
        "/api/v1/packages": {
            "name": "Sql",
            "price_cents": 100,
            "items": [{"appointment_type_id": kind, "quantity": 1}],
        },
        "/api/v1/share-links": {"appointment_type_ids": [kind], "label": "Sql"},
        f"/api/v1/clients/{world.client['id']}/credits/{kind}/adjustments": {
            "delta": 1,
            "note": "Sql",
        },
        "/api/v1/bookings": {
            "client_id": world.client["id"],
            "appointment_type_id": kind,
            "start": MONDAY.replace(hour=11).isoformat(),
        },
        f"/api/v1/bookings/{world.booking_id}/cancel": {"reason": "Sql"},
        f"/api/v1/bookings/{world.booking_id}/reschedule": {"start": MONDAY.isoformat()},
        f"/api/v1/clients/{world.client['id']}/packages": {"package_id": world.package_id},
    }


def _counts(world: World) -> tuple[int, int, int]:
    clients = ok(world.api.get("/api/v1/clients"))["clients"]
    bookings = ok(world.api.get("/api/v1/bookings"))["bookings"]
    links = ok(world.api.get("/api/v1/share-links"))["share_links"]
    return len(clients), len(bookings), len(links)


def test_sql_metacharacters_in_query_and_path_parameters_never_500(world: World) -> None:
    before = _counts(world)
    api, token = world.api, world.link["token"]
    for attack in SQL:
        reads = [
            ("/api/v1/clients", {"email": attack}),
            ("/api/v1/bookings", {"from": attack, "to": attack, "status": attack}),
            ("/api/v1/bookings", {"status": attack}),
            (
                "/api/v1/slots",
                {"appointment_type_id": attack, "start": attack, "end": attack},
            ),
            (
                "/api/v1/slots",
                {
                    "appointment_type_id": world.type_id,
                    "start": "2026-11-30",
                    "end": "2026-11-30",
                    "timezone": attack,
                },
            ),
            (f"/api/v1/links/{attack}", {}),
            (f"/api/v1/links/{attack}/slots", {"appointment_type_id": 1}),
            (f"/api/v1/links/{token}/slots", {"appointment_type_id": attack}),
            (f"/api/v1/clients/{attack}", {}),
            (f"/api/v1/bookings/{attack}", {}),
            (f"/api/v1/appointment-types/{attack}", {}),
        ]
        for path, query in reads:
            response = api.get(path, **query)
            assert response.status_code < 500, (path, query, response.status_code)
            if response.status_code >= 400:
                assert "error" in response.get_json()
        found = api.get("/api/v1/clients", email=attack)
        assert found.status_code in (200, 422)
        if found.status_code == 200:
            assert found.get_json()["clients"] == []
    assert _counts(world) == before


@pytest.mark.parametrize("attack", SQL[:2])
def test_sql_metacharacters_in_every_body_field_never_500(world: World, attack: str) -> None:
    before = _counts(world)
    for path, body in _bodies(world).items():
        for name in body:
            response = world.api.post(path, json={**body, name: attack})
            assert response.status_code < 500, (path, name, response.get_json())
            if response.status_code >= 400:
                assert "error" in response.get_json()
            elif name in ("name", "label", "note", "reason"):
                answer = response.get_json()
                stored = answer.get(name, answer.get("entry", {}).get(name, attack))
                assert stored == attack
    public = f"/api/v1/links/{world.link['token']}/bookings"
    valid = {
        "appointment_type_id": world.new_type_id,
        "start": MONDAY.replace(hour=15).isoformat(),
        "name": "Sql",
        "email": "public@example.com",
    }
    for name in (*valid, "timezone"):
        response = world.app.test_client().post(public, json={**valid, name: attack})
        assert response.status_code < 500, (name, response.get_json())
    for name in ("timezone", "negative_credit_limit", "public_booking_verification"):
        response = world.api.patch("/api/v1/settings", json={name: attack})
        assert response.status_code == 422, response.get_json()
    clients, bookings, links = _counts(world)
    assert clients >= before[0] and bookings >= before[1] and links >= before[2]
    assert world.client["id"] in [c["id"] for c in ok(world.api.get("/api/v1/clients"))["clients"]]


def test_oversized_bodies_answer_413_payload_too_large(world: World) -> None:
    limit = world.app.config["MAX_CONTENT_LENGTH"]
    huge = {"email": "big@example.com", "name": "x" * (limit + 1)}
    for post in (
        lambda: world.api.post("/api/v1/clients", json=huge),
        lambda: world.app.test_client().post(
            f"/api/v1/links/{world.link['token']}/bookings", json=huge
        ),
    ):
        response = post()
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "payload_too_large"
    page = world.app.test_client().post(f"/l/{world.link['token']}", data={"name": "x" * limit * 2})
    assert page.status_code == 413
    assert "Traceback" not in page.get_data(as_text=True)
    assert ok(world.api.get("/api/v1/clients", email="big@example.com"))["clients"] == []

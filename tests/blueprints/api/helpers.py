"""Small assertions shared by the API route tests."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BIG_IDS = ["99999999999", "2147483648", "0"]
"""Ids no database row can have: too many digits, past a 32-bit integer, zero."""


def expect_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error's details, once the status, the reason code and API.md's error shape hold."""
    body = response.get_json()
    assert response.status_code == status, body
    assert body is not None and set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["details"], dict), body
    return dict(error["details"])


def invalid_fields(response: Any) -> set[str]:
    """The fields a 422 validation_error names, each with a non-empty message."""
    details = expect_error(response, 422, "validation_error")
    assert all(isinstance(m, str) and m for m in details.values()), details
    return set(details)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def new_type(api: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Follow-Up",
        "duration_minutes": 50,
        "audience": "existing_clients",
        "requires_credit": True,
        **fields,
    }
    return created(api.post("/api/v1/appointment-types", json=body))


def new_client(
    api: Any, email: str = "someone@example.com", name: str = "Someone"
) -> dict[str, Any]:
    return created(api.post("/api/v1/clients", json={"email": email, "name": name}))


def new_package(api: Any, items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"name": "Bundle", "price_cents": 10000, "items": items, **fields}
    return created(api.post("/api/v1/packages", json=body))


def post_booking(api: Any, client_id: int, type_id: int, start: str, **extra: Any) -> Any:
    """A provider's `POST /api/v1/bookings`; the response, for the test to judge."""
    body = {"client_id": client_id, "appointment_type_id": type_id, "start": start, **extra}
    return api.post("/api/v1/bookings", json=body)


# Share links, for the tests of public bookings. The provider works in New York.

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def settings(api: Any, **fields: Any) -> dict[str, Any]:
    return ok(api.patch("/api/v1/settings", json=fields))


def share(api: Any, *types: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return created(
        api.post(
            "/api/v1/share-links",
            json={"appointment_type_ids": [t["id"] for t in types], **fields},
        )
    )


def at(hour: int, minute: int = 0, day: int = 0) -> str:
    """A start on Monday 30 November (or `day` days later), New York time."""
    return (MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)).isoformat()


def slots(api: Any, type_id: int, start: str, end: str, **query: Any) -> list[dict[str, Any]]:
    """`GET /api/v1/slots` from `start` to `end`, checked to answer only its slots."""
    answer = ok(
        api.get("/api/v1/slots", appointment_type_id=type_id, start=start, end=end, **query)
    )
    assert set(answer) == {"slots"}, answer
    return list(answer["slots"])


def starts(api: Any, type_id: int, start: str, end: str, **query: Any) -> list[str]:
    return [s["start"] for s in slots(api, type_id, start, end, **query)]


def link_slots(
    client: Any, link: dict[str, Any], type_id: int, day: str = "2026-11-30", **query: Any
) -> Any:
    """`GET /api/v1/links/{token}/slots` for one day (Monday 30 November unless told)."""
    return client.get(
        f"/api/v1/links/{link['token']}/slots",
        query_string={"appointment_type_id": type_id, "start": day, "end": day, **query},
    )


def submit(
    client: Any,
    link: dict[str, Any],
    appointment_type: dict[str, Any],
    start: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """A public booking through `link`; a visitor's name and email unless the link is
    personal or the test gives its own."""
    body = {"appointment_type_id": appointment_type["id"], "start": start or at(9), **fields}
    if link.get("client_id") is None:
        body.setdefault("name", "Visitor")
        body.setdefault("email", "visitor@example.com")
    return client.post(f"/api/v1/links/{link['token']}/bookings", json=body, headers=headers)

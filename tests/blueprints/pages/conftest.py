"""A provider open on weekdays, a new-client type and its share link, and a visitor's walk."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from .page_parts import booking_form, hrefs, text

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def settings(api: Any, **fields: Any) -> dict[str, Any]:
    return ok(api.patch("/api/v1/settings", json=fields))


def share(api: Any, *types: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/api/v1/share-links", json={"appointment_type_ids": [t["id"] for t in types], **fields}
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """A start on Monday 30 November (or `day` days later), New York time."""
    return MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)


@pytest.fixture(autouse=True)
def open_week(api: Any) -> None:
    ok(api.put("/api/v1/availability", json={"weekly": WEEK}))


@pytest.fixture
def link(api: Any, discovery: dict[str, Any]) -> dict[str, Any]:
    return share(api, discovery)


def details_page(
    client: FlaskClient,
    link: dict[str, Any],
    appointment_type: dict[str, Any],
    start: datetime,
    prefix: str = "/l",
    **query: str,
) -> Any:
    """The name-and-email step for a start, reached as a visitor would: by its slot link."""
    page = client.get(
        f"{prefix}/{link['token']}",
        query_string={"type": appointment_type["id"], "week": start.date().isoformat(), **query},
    )
    assert page.status_code == 200, text(page)
    local = start.astimezone(ZoneInfo(query.get("tz", "America/New_York"))).isoformat()
    [target] = [h for h in hrefs(text(page), "slot") if local in unquote(h)]
    details = client.get(target)
    assert details.status_code == 200, text(details)
    return details


def book(
    client: FlaskClient,
    link: dict[str, Any],
    appointment_type: dict[str, Any],
    start: datetime,
    prefix: str = "/l",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    """Fill in and send the booking form; fields override what the visitor types."""
    form = booking_form(text(details_page(client, link, appointment_type, start, prefix)))
    data = {**form.fields, "name": "Visitor", "email": "visitor@example.com", **fields}
    return client.post(form.action, data=data, headers=headers)

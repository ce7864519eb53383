"""Fixtures the API's booking tests share."""

from collections.abc import Callable
from typing import Any

import pytest

from .helpers import ok


@pytest.fixture
def weekday_hours(api: Any) -> None:
    """Monday to Friday, 09:00-17:00 in the provider's zone."""
    hours = [{"start": "09:00", "end": "17:00"}]
    week = {day: hours for day in ("mon", "tue", "wed", "thu", "fri")}
    ok(api.put("/api/v1/availability", json={"weekly": week}))


@pytest.fixture
def credited(
    make_client: Any, make_package: Any, buy: Any, follow_up: dict[str, Any]
) -> Callable[..., dict[str, Any]]:
    """A client holding `quantity` Follow-Up credits (an existing client: they bought)."""

    def make(quantity: int = 2) -> dict[str, Any]:
        client = make_client()
        package = make_package([{"appointment_type_id": follow_up["id"], "quantity": quantity}])
        buy(client["id"], package["id"])
        return dict(client)

    return make

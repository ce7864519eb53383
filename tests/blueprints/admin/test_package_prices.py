"""A package's price and items as a provider types them: read as meant, or refused beside
the field; never a 500, never a price a hundred times off, never a row dropped unread."""

import pytest
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import Package


def packages_saved() -> list[int]:
    db.session.rollback()
    return list(db.session.scalars(select(Package.price_cents)))


def sell(dashboard, follow_up, price, **rows):
    return dashboard.post(
        "/admin/packages",
        {
            "name": "Ten sessions",
            "price": price,
            "items-0-appointment_type_id": follow_up["id"],
            "items-0-quantity": "10",
            **rows,
        },
    )


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1250", 125000), ("1,250.00", 125000), ("12,50", 1250), ("12,5", 1250), ("99.90", 9990)],
)
def test_a_price_is_read_as_the_provider_meant_it(dashboard, follow_up, typed, cents):
    assert sell(dashboard, follow_up, typed).status_code == 302
    assert packages_saved() == [cents]


@pytest.mark.parametrize("typed", ["9e999999", "1e2", "1_0", "12,5,0", "12,500,5", "€12"])
def test_a_price_that_cannot_be_read_is_refused_beside_its_field(dashboard, follow_up, typed):
    response = sell(dashboard, follow_up, typed)
    assert response.status_code == 422
    assert "Write a price like 120 or 120.50." in response.get_data(as_text=True)
    assert packages_saved() == []


def test_an_expiry_typed_in_a_row_without_a_type_is_refused_not_dropped(dashboard, follow_up):
    blank_but_expiry = {
        "items-1-appointment_type_id": "",
        "items-1-quantity": "",
        "items-1-expires_after_days": "30",
    }
    response = sell(dashboard, follow_up, "100", **blank_but_expiry)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Package)) == 0

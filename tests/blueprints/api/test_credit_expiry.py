import pytest

from .helpers import at, created, ok, post_booking, settings


@pytest.fixture
def customer(make_client):
    return make_client(email="ann@example.com", name="Ann")


def history(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))


def adjust(api, client_id, type_id, delta):
    return created(
        api.post(
            f"/api/v1/clients/{client_id}/credits/{type_id}/adjustments",
            json={"delta": delta, "note": "correction"},
        )
    )


def buy_expiring(make_package, buy, client_id, type_id, quantity, days):
    package = make_package(
        [{"appointment_type_id": type_id, "quantity": quantity, "expires_after_days": days}]
    )
    return buy(client_id, package["id"])


def test_unused_credits_expire_without_any_command_run(
    api, customer, follow_up, make_package, buy, clock
):
    bought = buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == 0
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in body["history"]] == [
        ("package_grant", 5, 5),
        ("expiry", -5, 0),
    ]
    assert body["history"][1]["client_package_id"] == bought["id"]


def test_the_credit_list_shows_expired_credits_as_gone(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    rows = ok(api.get(f"/api/v1/clients/{customer['id']}/credits"))["credits"]
    assert [(r["appointment_type_id"], r["balance"]) for r in rows] == [(follow_up["id"], 0)]


def test_credits_are_still_there_the_day_before_they_expire(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=29, hours=23)
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == 5
    assert [e["kind"] for e in body["history"]] == ["package_grant"]


def test_reading_the_history_twice_writes_the_expiry_once(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    history(api, customer["id"], follow_up["id"])
    api.get(f"/api/v1/clients/{customer['id']}/credits")
    clock.advance(days=1)
    kinds = [e["kind"] for e in history(api, customer["id"], follow_up["id"])["history"]]
    assert kinds == ["package_grant", "expiry"]


def test_only_the_expiring_grant_expires(api, customer, follow_up, make_package, buy, clock):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 2, 90)
    clock.advance(days=31)
    assert history(api, customer["id"], follow_up["id"])["balance"] == 2


def test_credits_from_adjustments_never_expire(api, customer, follow_up, clock):
    adjust(api, customer["id"], follow_up["id"], 2)
    clock.advance(days=3650)
    assert history(api, customer["id"], follow_up["id"])["balance"] == 2


def test_a_grant_pays_back_a_negative_balance_first(api, customer, follow_up, make_package, buy):
    adjust(api, customer["id"], follow_up["id"], -2)
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 5}])
    bought = buy(customer["id"], package["id"])
    assert bought["grants"][0]["balance_after"] == 3
    assert history(api, customer["id"], follow_up["id"])["balance"] == 3


def test_only_what_is_left_after_paying_back_a_debt_can_expire(
    api, customer, follow_up, make_package, buy, clock
):
    adjust(api, customer["id"], follow_up["id"], -2)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == 0
    assert [(e["kind"], e["delta"]) for e in body["history"]][-1] == ("expiry", -3)


def test_a_grant_smaller_than_the_debt_leaves_nothing_to_expire(
    api, customer, follow_up, make_package, buy, clock
):
    adjust(api, customer["id"], follow_up["id"], -4)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 3, 30)
    clock.advance(days=31)
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == -1
    assert "expiry" not in [e["kind"] for e in body["history"]]


def test_taking_credits_away_uses_the_ones_that_expire_first(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 1, 90)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 1, 30)
    adjust(api, customer["id"], follow_up["id"], -1)
    clock.advance(days=31)
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == 1
    assert "expiry" not in [e["kind"] for e in body["history"]]


def test_taking_credits_away_keeps_the_ones_that_never_expire(
    api, customer, follow_up, make_package, buy, clock
):
    adjust(api, customer["id"], follow_up["id"], 1)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 1, 30)
    adjust(api, customer["id"], follow_up["id"], -1)
    clock.advance(days=31)
    assert history(api, customer["id"], follow_up["id"])["balance"] == 1


def test_credits_expire_exactly_n_days_after_purchase(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=30)
    assert history(api, customer["id"], follow_up["id"])["balance"] == 0


def test_a_purchase_after_an_expiry_starts_from_zero(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}])
    bought = buy(customer["id"], package["id"])
    assert bought["grants"][0]["balance_after"] == 2
    kinds = [e["kind"] for e in history(api, customer["id"], follow_up["id"])["history"]]
    assert kinds == ["package_grant", "expiry", "package_grant"]


def test_an_adjustment_after_the_expiry_date_counts_the_expiry_first(
    api, customer, follow_up, make_package, buy, clock
):
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 5, 30)
    clock.advance(days=31)
    entry = adjust(api, customer["id"], follow_up["id"], -1)
    assert entry["balance_after"] == -1


@pytest.mark.usefixtures("weekday_hours")
def test_a_booking_that_finds_credits_due_lists_their_expiry_before_its_spend(
    api, customer, follow_up, make_package, buy, clock
):
    # The booking, its entry, lot and balance are one statement on PostgreSQL; the
    # expiry the spend found due is written before it, so the history reads in order.
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 2, 30)
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 3, 60)
    clock.advance(days=31)
    made = created(post_booking(api, customer["id"], follow_up["id"], "2026-12-28T10:00:00-05:00"))
    body = history(api, customer["id"], follow_up["id"])
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in body["history"]] == [
        ("package_grant", 2, 2),
        ("package_grant", 3, 5),
        ("expiry", -2, 3),
        ("booking", -1, 2),
    ]
    assert body["history"][-1]["booking_id"] == made["id"]
    assert body["balance"] == 2
    clock.advance(days=30)
    assert history(api, customer["id"], follow_up["id"])["history"][-1]["delta"] == -2


# A session booked on credit (the balance below zero) took no lot: the next grant paid it.
# Cancelling it gives that grant's credit back, with that grant's expiry.


@pytest.mark.usefixtures("weekday_hours")
def test_refunding_a_session_a_package_paid_for_later_gives_back_a_credit_that_expires_with_it(
    api, customer, follow_up, make_package, buy, clock
):
    settings(api, negative_credit_limit=1)
    on_credit = created(post_booking(api, customer["id"], follow_up["id"], at(9, day=14)))
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 1, 2)  # pays the -1
    clock.advance(days=3)  # the package's credit has expired
    ok(api.post(f"/api/v1/bookings/{on_credit['id']}/cancel", json={}))
    body = history(api, customer["id"], follow_up["id"])
    assert body["balance"] == 0
    assert [(e["kind"], e["delta"]) for e in body["history"]][-2:] == [
        ("cancellation_refund", 1),
        ("expiry", -1),
    ]


@pytest.mark.usefixtures("weekday_hours")
def test_refunding_a_session_paid_by_a_later_package_gives_the_credit_back_to_that_package(
    api, customer, follow_up, make_package, buy, clock
):
    settings(api, negative_credit_limit=1)
    adjust(api, customer["id"], follow_up["id"], 1)  # never expires
    created(post_booking(api, customer["id"], follow_up["id"], at(9, day=14)))  # the adjustment's
    on_credit = created(post_booking(api, customer["id"], follow_up["id"], at(9, day=15)))
    buy_expiring(make_package, buy, customer["id"], follow_up["id"], 1, 30)  # pays the -1
    ok(api.post(f"/api/v1/bookings/{on_credit['id']}/cancel", json={}))
    assert history(api, customer["id"], follow_up["id"])["balance"] == 1
    clock.advance(days=31)
    assert history(api, customer["id"], follow_up["id"])["balance"] == 0

import pytest

from .helpers import (
    BIG_IDS,
    created,
    expect_error,
    invalid_fields,
    new_client,
    new_package,
    new_type,
    ok,
)


@pytest.fixture
def massage(make_type):
    return make_type(name="Massage", duration_minutes=60)


@pytest.fixture
def package(make_package, follow_up, massage):
    return make_package(
        [
            {"appointment_type_id": follow_up["id"], "quantity": 5, "expires_after_days": 90},
            {"appointment_type_id": massage["id"], "quantity": 2},
        ]
    )


@pytest.fixture
def customer(make_client):
    return make_client(email="ann@example.com", name="Ann")


def buy_path(client_id):
    return f"/api/v1/clients/{client_id}/packages"


def test_buying_a_package_answers_201_with_an_active_client_package(api, customer, package):
    body = created(api.post(buy_path(customer["id"]), json={"package_id": package["id"]}))
    assert isinstance(body["id"], int)
    assert body["status"] == "active"


def test_buying_a_package_grants_one_entry_per_item(api, customer, package, follow_up, massage):
    body = created(api.post(buy_path(customer["id"]), json={"package_id": package["id"]}))
    grants = {g["appointment_type_id"]: g for g in body["grants"]}
    assert len(body["grants"]) == 2
    assert set(grants) == {follow_up["id"], massage["id"]}
    assert all(g["kind"] == "package_grant" for g in body["grants"])
    assert grants[follow_up["id"]]["delta"] == 5
    assert grants[massage["id"]]["delta"] == 2
    assert grants[follow_up["id"]]["balance_after"] == 5
    assert grants[massage["id"]]["balance_after"] == 2
    assert all(g["client_package_id"] == body["id"] for g in body["grants"])
    assert all(g["booking_id"] is None for g in body["grants"])


def test_buying_a_package_twice_makes_two_client_packages(api, customer, package, follow_up):
    first = created(api.post(buy_path(customer["id"]), json={"package_id": package["id"]}))
    second = created(api.post(buy_path(customer["id"]), json={"package_id": package["id"]}))
    assert first["id"] != second["id"]
    grant = next(g for g in second["grants"] if g["appointment_type_id"] == follow_up["id"])
    assert grant["balance_after"] == 10


@pytest.mark.parametrize("package_id", [99999999999, 0, "1", None])
def test_a_malformed_package_id_is_refused_on_package_id(api, customer, package_id):
    response = api.post(buy_path(customer["id"]), json={"package_id": package_id})
    assert invalid_fields(response) == {"package_id"}


# API.md: not_found 404 is "no such object for this caller"; the answer names the field.
def test_an_unknown_package_is_not_found_on_package_id(api, customer):
    response = api.post(buy_path(customer["id"]), json={"package_id": 424242})
    assert expect_error(response, 404, "not_found") == {"package_id": "no package with id 424242"}
    assert ok(api.get(buy_path(customer["id"])))["client_packages"] == []


def test_a_missing_package_id_is_refused(api, customer):
    assert invalid_fields(api.post(buy_path(customer["id"]), json={})) == {"package_id"}


def test_another_providers_package_cannot_be_bought(api, customer, create_provider):
    other = create_provider()
    theirs = new_package(
        other.api, [{"appointment_type_id": new_type(other.api)["id"], "quantity": 1}]
    )
    response = api.post(buy_path(customer["id"]), json={"package_id": theirs["id"]})
    assert set(expect_error(response, 404, "not_found")) == {"package_id"}


def test_buying_for_another_providers_client_is_not_found(api, package, create_provider):
    theirs = new_client(create_provider().api)
    response = api.post(buy_path(theirs["id"]), json={"package_id": package["id"]})
    expect_error(response, 404, "not_found")


@pytest.mark.parametrize("big", BIG_IDS)
def test_buying_for_an_impossible_client_id_is_not_found(api, package, big):
    expect_error(api.post(buy_path(big), json={"package_id": package["id"]}), 404, "not_found")


def test_buying_needs_a_json_body(client, provider, customer):
    response = client.post(
        buy_path(customer["id"]),
        data="package_id=1",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_buying_needs_a_key(client, customer, package):
    response = client.post(buy_path(customer["id"]), json={"package_id": package["id"]})
    expect_error(response, 401, "unauthorized")


def test_archiving_a_client_package_answers_it_archived(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    body = ok(api.post(f"/api/v1/client-packages/{bought['id']}/archive"))
    assert body["id"] == bought["id"]
    assert body["status"] == "archived"
    assert body["grants"] == bought["grants"]


def test_deleting_a_client_package_answers_it_deleted(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    body = ok(api.delete(f"/api/v1/client-packages/{bought['id']}"))
    assert body["id"] == bought["id"]
    assert body["status"] == "deleted"
    assert body["grants"] == bought["grants"]


def test_an_archived_client_package_can_be_deleted(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    api.post(f"/api/v1/client-packages/{bought['id']}/archive")
    assert ok(api.delete(f"/api/v1/client-packages/{bought['id']}"))["status"] == "deleted"


def test_a_deleted_client_package_cannot_be_archived(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    api.delete(f"/api/v1/client-packages/{bought['id']}")
    expect_error(api.post(f"/api/v1/client-packages/{bought['id']}/archive"), 409, "invalid_state")


def credit_snapshot(api, client_id, type_ids):
    """Every credit answer of the client, as raw bytes."""
    pages = [api.get(f"/api/v1/clients/{client_id}/credits")]
    pages += [api.get(f"/api/v1/clients/{client_id}/credits/{t}") for t in type_ids]
    assert all(page.status_code == 200 for page in pages)
    return [page.get_data() for page in pages]


@pytest.mark.parametrize(
    ("method", "suffix", "status"),
    [("post", "/archive", "archived"), ("delete", "", "deleted")],
)
def test_archiving_or_deleting_leaves_balances_and_history_untouched(
    api, customer, package, buy, follow_up, massage, method, suffix, status
):
    bought = buy(customer["id"], package["id"])
    api.post(
        f"/api/v1/clients/{customer['id']}/credits/{follow_up['id']}/adjustments",
        json={"delta": -1, "note": "used one on paper"},
    )
    types = [follow_up["id"], massage["id"]]
    before = credit_snapshot(api, customer["id"], types)
    response = getattr(api, method)(f"/api/v1/client-packages/{bought['id']}{suffix}")
    assert ok(response)["status"] == status
    assert credit_snapshot(api, customer["id"], types) == before


@pytest.mark.parametrize(("method", "suffix"), [("post", "/archive"), ("delete", "")])
def test_another_providers_client_package_is_not_found(api, create_provider, method, suffix):
    other = create_provider()
    theirs = new_package(
        other.api, [{"appointment_type_id": new_type(other.api)["id"], "quantity": 1}]
    )
    their_client = new_client(other.api)
    bought = created(
        other.api.post(buy_path(their_client["id"]), json={"package_id": theirs["id"]})
    )
    response = getattr(api, method)(f"/api/v1/client-packages/{bought['id']}{suffix}")
    expect_error(response, 404, "not_found")
    listed = ok(other.api.get(buy_path(their_client["id"])))["client_packages"]
    assert [cp["status"] for cp in listed] == ["active"]


@pytest.mark.parametrize("big", [*BIG_IDS, "4242"])
def test_an_unknown_client_package_is_not_found(api, big):
    expect_error(api.post(f"/api/v1/client-packages/{big}/archive"), 404, "not_found")
    expect_error(api.delete(f"/api/v1/client-packages/{big}"), 404, "not_found")


def test_archiving_and_deleting_need_a_key(client, api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    expect_error(
        client.post(f"/api/v1/client-packages/{bought['id']}/archive"), 401, "unauthorized"
    )
    expect_error(client.delete(f"/api/v1/client-packages/{bought['id']}"), 401, "unauthorized")
    assert ok(api.get(buy_path(customer["id"])))["client_packages"][0]["status"] == "active"


def test_a_clients_purchases_can_be_listed(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    assert ok(api.get(buy_path(customer["id"]))) == {"client_packages": [bought]}


@pytest.mark.parametrize("big", BIG_IDS)
def test_listing_purchases_of_an_impossible_client_id_is_not_found(api, big):
    expect_error(api.get(buy_path(big)), 404, "not_found")


def test_archiving_twice_keeps_it_archived(api, customer, package, buy):
    bought = buy(customer["id"], package["id"])
    first = ok(api.post(f"/api/v1/client-packages/{bought['id']}/archive"))
    assert ok(api.post(f"/api/v1/client-packages/{bought['id']}/archive")) == first

import pytest

from .helpers import BIG_IDS, created, expect_error, invalid_fields, new_type, ok

PACKAGES = "/api/v1/packages"


def test_creating_a_package_answers_201_with_its_items(api, make_type):
    first = make_type(name="Follow-Up")
    second = make_type(name="Massage")
    body = created(
        api.post(
            PACKAGES,
            json={
                "name": "Spring Reset",
                "price_cents": 40000,
                "items": [
                    {"appointment_type_id": first["id"], "quantity": 5, "expires_after_days": 90},
                    {"appointment_type_id": second["id"], "quantity": 2},
                ],
            },
        )
    )
    assert isinstance(body["id"], int)
    assert body["name"] == "Spring Reset"
    assert body["price_cents"] == 40000
    assert sorted(body["items"], key=lambda item: item["appointment_type_id"]) == [
        {"appointment_type_id": first["id"], "quantity": 5, "expires_after_days": 90},
        {"appointment_type_id": second["id"], "quantity": 2, "expires_after_days": None},
    ]


def test_a_free_package_is_allowed(make_package, follow_up):
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}], price_cents=0)
    assert package["price_cents"] == 0


def test_the_list_holds_the_providers_packages(api, make_package, follow_up):
    first = make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}], name="One")
    second = make_package([{"appointment_type_id": follow_up["id"], "quantity": 3}], name="Three")
    assert ok(api.get(PACKAGES)) == {"packages": [first, second]}


def test_the_list_leaves_out_other_providers_packages(api, create_provider, follow_up):
    other = create_provider()
    theirs = new_type(other.api)
    created(
        other.api.post(
            PACKAGES,
            json={
                "name": "Theirs",
                "price_cents": 1,
                "items": [{"appointment_type_id": theirs["id"], "quantity": 1}],
            },
        )
    )
    assert ok(api.get(PACKAGES)) == {"packages": []}


def test_an_unknown_appointment_type_is_refused_on_its_item(api, follow_up):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": 100,
            "items": [
                {"appointment_type_id": follow_up["id"], "quantity": 1},
                {"appointment_type_id": 424242, "quantity": 1},
            ],
        },
    )
    assert set(expect_error(response, 404, "not_found")) == {"items.1.appointment_type_id"}
    assert ok(api.get(PACKAGES)) == {"packages": []}


def test_another_providers_appointment_type_is_refused_on_its_item(api, create_provider):
    theirs = new_type(create_provider().api)
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": 100,
            "items": [{"appointment_type_id": theirs["id"], "quantity": 1}],
        },
    )
    assert set(expect_error(response, 404, "not_found")) == {"items.0.appointment_type_id"}
    assert ok(api.get(PACKAGES)) == {"packages": []}


@pytest.mark.parametrize("type_id", [99999999999, 0, -1, "1", None])
def test_an_appointment_type_id_no_row_can_have_is_refused_not_an_error(api, type_id):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": 100,
            "items": [{"appointment_type_id": type_id, "quantity": 1}],
        },
    )
    assert invalid_fields(response) == {"items.0.appointment_type_id"}


def test_the_same_type_twice_in_one_package_is_refused(api, follow_up):
    item = {"appointment_type_id": follow_up["id"], "quantity": 1}
    response = api.post(PACKAGES, json={"name": "Bundle", "price_cents": 1, "items": [item, item]})
    assert invalid_fields(response) == {"items.1.appointment_type_id"}


@pytest.mark.parametrize("quantity", [0, -2, "3", 1.5, None])
def test_a_quantity_that_is_not_positive_is_refused(api, follow_up, quantity):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": 1,
            "items": [{"appointment_type_id": follow_up["id"], "quantity": quantity}],
        },
    )
    assert invalid_fields(response) == {"items.0.quantity"}


@pytest.mark.parametrize("days", [0, -30, "30"])
def test_an_expiry_that_is_not_a_positive_number_of_days_is_refused(api, follow_up, days):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": 1,
            "items": [
                {"appointment_type_id": follow_up["id"], "quantity": 1, "expires_after_days": days}
            ],
        },
    )
    assert invalid_fields(response) == {"items.0.expires_after_days"}


def test_a_package_without_items_is_refused(api):
    response = api.post(PACKAGES, json={"name": "Nothing", "price_cents": 0, "items": []})
    assert invalid_fields(response) == {"items"}


def test_a_package_with_no_items_field_is_refused(api):
    response = api.post(PACKAGES, json={"name": "Nothing", "price_cents": 0})
    assert invalid_fields(response) == {"items"}


@pytest.mark.parametrize("price", [-1, "400", 12.5, None])
def test_a_price_that_is_not_a_whole_non_negative_number_is_refused(api, follow_up, price):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle",
            "price_cents": price,
            "items": [{"appointment_type_id": follow_up["id"], "quantity": 1}],
        },
    )
    assert invalid_fields(response) == {"price_cents"}


@pytest.mark.parametrize("name", ["", "   ", None])
def test_a_package_needs_a_name(api, follow_up, name):
    response = api.post(
        PACKAGES,
        json={
            "name": name,
            "price_cents": 1,
            "items": [{"appointment_type_id": follow_up["id"], "quantity": 1}],
        },
    )
    assert invalid_fields(response) == {"name"}


def test_creating_a_package_needs_a_json_body(client, provider):
    response = client.post(
        PACKAGES,
        data="name=Bundle",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_packages_need_a_key(client):
    expect_error(client.get(PACKAGES), 401, "unauthorized")
    expect_error(client.post(PACKAGES, json={}), 401, "unauthorized")


@pytest.mark.parametrize("big", BIG_IDS)
def test_reading_a_package_with_an_impossible_id_is_not_found(api, big):
    expect_error(api.get(f"{PACKAGES}/{big}"), 404, "not_found")


def test_a_package_name_with_a_nul_character_is_refused(api, follow_up):
    response = api.post(
        PACKAGES,
        json={
            "name": "Bundle\u0000",
            "price_cents": 1,
            "items": [{"appointment_type_id": follow_up["id"], "quantity": 1}],
        },
    )
    assert invalid_fields(response) == {"name"}


# --- PATCH /api/v1/packages/{id} ---------------------------------------------------------


def test_a_package_is_renamed_and_repriced_and_keeps_its_items(api, make_package, follow_up):
    made = make_package([{"appointment_type_id": follow_up["id"], "quantity": 4}])
    changed = ok(api.patch(f"{PACKAGES}/{made['id']}", json={"name": " Winter ", "price_cents": 0}))
    assert (changed["name"], changed["price_cents"], changed["active"]) == ("Winter", 0, True)
    assert changed["items"] == made["items"]
    assert ok(api.get(f"{PACKAGES}/{made['id']}")) == changed


def test_a_package_no_longer_sold_cannot_be_bought_and_earlier_buyers_keep_credits(
    api, make_package, make_client, buy, follow_up
):
    made = make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}])
    early = make_client()
    buy(early["id"], made["id"])
    assert ok(api.patch(f"{PACKAGES}/{made['id']}", json={"active": False}))["active"] is False
    late = make_client()
    response = api.post(f"/api/v1/clients/{late['id']}/packages", json={"package_id": made["id"]})
    assert invalid_fields(response) == {"package_id"}
    balance = ok(api.get(f"/api/v1/clients/{early['id']}/credits/{follow_up['id']}"))["balance"]
    assert balance == 2
    assert ok(api.patch(f"{PACKAGES}/{made['id']}", json={"active": True}))["active"] is True
    created(api.post(f"/api/v1/clients/{late['id']}/packages", json={"package_id": made["id"]}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"price_cents": -1}, "price_cents"),
        ({"active": "no"}, "active"),
        ({"items": []}, "items"),
    ],
)
def test_bad_package_changes_are_refused_and_change_nothing(
    api, make_package, follow_up, body, field
):
    made = make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])
    assert field in invalid_fields(api.patch(f"{PACKAGES}/{made['id']}", json=body))
    assert ok(api.get(f"{PACKAGES}/{made['id']}")) == made


def test_another_providers_package_cannot_be_changed(api, create_provider, follow_up):
    other = create_provider()
    theirs = created(
        other.api.post(
            PACKAGES,
            json={
                "name": "Theirs",
                "price_cents": 100,
                "items": [{"appointment_type_id": new_type(other.api)["id"], "quantity": 1}],
            },
        )
    )
    expect_error(api.patch(f"{PACKAGES}/{theirs['id']}", json={"active": False}), 404, "not_found")
    assert ok(other.api.get(f"{PACKAGES}/{theirs['id']}"))["active"] is True

import pytest

from .helpers import BIG_IDS, created, expect_error, invalid_fields, new_client, ok

CLIENTS = "/api/v1/clients"


def test_creating_a_client_answers_201_with_a_new_client(api):
    body = created(api.post(CLIENTS, json={"email": "ann@example.com", "name": "Ann Lee"}))
    assert isinstance(body["id"], int)
    assert body["email"] == "ann@example.com"
    assert body["name"] == "Ann Lee"
    assert body["status"] == "new"


def test_a_clients_email_comes_back_trimmed_and_lower_case(api):
    body = created(api.post(CLIENTS, json={"email": "  Ann@Example.COM ", "name": "Ann"}))
    assert body["email"] == "ann@example.com"


def test_a_clients_name_is_trimmed(api):
    assert (
        created(api.post(CLIENTS, json={"email": "a@example.com", "name": " Ann "}))["name"]
        == "Ann"
    )


@pytest.mark.parametrize("email", ["ann@example.com", "ANN@EXAMPLE.COM", " Ann@Example.com  "])
def test_a_duplicate_email_in_any_case_is_a_conflict(api, email):
    new_client(api, email="ann@example.com")
    response = api.post(CLIENTS, json={"email": email, "name": "Ann again"})
    expect_error(response, 409, "conflict")
    assert "exists already" in response.get_json()["error"]["details"]["email"]
    assert len(ok(api.get(CLIENTS))["clients"]) == 1


def test_the_same_email_at_another_provider_is_a_different_client(api, create_provider):
    mine = new_client(api, email="ann@example.com")
    theirs = new_client(create_provider().api, email="ANN@example.com")
    assert theirs["email"] == "ann@example.com"
    assert theirs["id"] != mine["id"]


@pytest.mark.parametrize(
    "email", ["not-an-email", "ann@", "@example.com", "ann@@example.com", "ann example@x.com", 42]
)
def test_an_invalid_email_is_refused(api, email):
    assert invalid_fields(api.post(CLIENTS, json={"email": email, "name": "Ann"})) == {"email"}


def test_a_missing_email_is_refused(api):
    assert invalid_fields(api.post(CLIENTS, json={"name": "Ann"})) == {"email"}


@pytest.mark.parametrize("name", ["", "   ", None, 5])
def test_a_client_needs_a_name(api, name):
    assert invalid_fields(api.post(CLIENTS, json={"email": "a@example.com", "name": name})) == {
        "name"
    }


def test_a_missing_name_is_refused(api):
    assert invalid_fields(api.post(CLIENTS, json={"email": "a@example.com"})) == {"name"}


def test_creating_a_client_needs_a_json_body(client, provider):
    response = client.post(
        CLIENTS,
        data="email=a@example.com&name=Ann",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_creating_a_client_needs_a_key(client):
    expect_error(
        client.post(CLIENTS, json={"email": "a@example.com", "name": "A"}), 401, "unauthorized"
    )


def test_the_client_list_is_wrapped_and_in_creation_order(api):
    first = new_client(api, email="a@example.com", name="A")
    second = new_client(api, email="b@example.com", name="B")
    listed = ok(api.get(CLIENTS))["clients"]
    assert [(c["id"], c["email"], c["name"], c["status"]) for c in listed] == [
        (first["id"], "a@example.com", "A", "new"),
        (second["id"], "b@example.com", "B", "new"),
    ]


def test_the_client_list_leaves_out_other_providers_clients(api, create_provider):
    new_client(create_provider().api, email="theirs@example.com")
    mine = new_client(api, email="mine@example.com")
    assert [c["id"] for c in ok(api.get(CLIENTS))["clients"]] == [mine["id"]]


@pytest.mark.parametrize("query", ["ann@example.com", "ANN@Example.Com", " ann@example.com "])
def test_the_email_filter_ignores_case_and_spaces(api, query):
    ann = new_client(api, email="ann@example.com")
    new_client(api, email="bob@example.com")
    listed = ok(api.get(CLIENTS, email=query))["clients"]
    assert [c["id"] for c in listed] == [ann["id"]]


def test_the_email_filter_with_no_match_is_an_empty_list(api):
    new_client(api, email="ann@example.com")
    assert ok(api.get(CLIENTS, email="nobody@example.com")) == {"clients": []}


def test_the_email_filter_does_not_find_another_providers_client(api, create_provider):
    new_client(create_provider().api, email="ann@example.com")
    assert ok(api.get(CLIENTS, email="ann@example.com")) == {"clients": []}


def test_listing_clients_needs_a_key(client):
    expect_error(client.get(CLIENTS), 401, "unauthorized")


def test_a_client_can_be_read_by_id(api):
    made = new_client(api)
    body = ok(api.get(f"{CLIENTS}/{made['id']}"))
    assert {k: body[k] for k in ("id", "email", "name", "status")} == {
        k: made[k] for k in ("id", "email", "name", "status")
    }


def test_another_providers_client_is_not_found(api, create_provider):
    theirs = new_client(create_provider().api)
    expect_error(api.get(f"{CLIENTS}/{theirs['id']}"), 404, "not_found")


@pytest.mark.parametrize("big", [*BIG_IDS, "4242"])
def test_an_unknown_client_id_is_not_found(api, big):
    expect_error(api.get(f"{CLIENTS}/{big}"), 404, "not_found")


def test_reading_a_client_needs_a_key(client, api):
    made = new_client(api)
    expect_error(client.get(f"{CLIENTS}/{made['id']}"), 401, "unauthorized")


@pytest.fixture
def package(make_type, make_package):
    return make_package([{"appointment_type_id": make_type()["id"], "quantity": 1}])


def test_a_client_becomes_existing_after_a_package_purchase(api, package, buy):
    made = new_client(api)
    buy(made["id"], package["id"])
    assert ok(api.get(f"{CLIENTS}/{made['id']}"))["status"] == "existing"


def test_the_list_shows_which_clients_are_existing(api, package, buy):
    buyer = new_client(api, email="buyer@example.com")
    browser = new_client(api, email="browser@example.com")
    buy(buyer["id"], package["id"])
    statuses = {c["id"]: c["status"] for c in ok(api.get(CLIENTS))["clients"]}
    assert statuses == {buyer["id"]: "existing", browser["id"]: "new"}


@pytest.mark.parametrize(("method", "suffix"), [("post", "/archive"), ("delete", "")])
def test_a_client_stays_existing_after_their_package_is_archived_or_deleted(
    api, package, buy, method, suffix
):
    made = new_client(api)
    bought = buy(made["id"], package["id"])
    getattr(api, method)(f"/api/v1/client-packages/{bought['id']}{suffix}")
    assert ok(api.get(f"{CLIENTS}/{made['id']}"))["status"] == "existing"


def test_a_client_name_with_a_nul_character_is_refused(api):
    response = api.post(CLIENTS, json={"email": "a@example.com", "name": "Ann\u0000Lee"})
    assert invalid_fields(response) == {"name"}


def test_an_email_filter_with_a_nul_character_matches_no_one(api):
    new_client(api, email="ann@example.com")
    response = api.get(CLIENTS, email="ann\u0000@example.com")
    # No address holds a NUL: an empty list or a validation error, never a crash.
    if response.status_code == 422:
        assert invalid_fields(response) == {"email"}
    else:
        assert ok(response) == {"clients": []}

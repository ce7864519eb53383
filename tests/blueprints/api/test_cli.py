from datetime import UTC, datetime

import pytest

from .helpers import expect_error, ok


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_provider_args(**options):
    values = {
        "--name": "Dr. Bea",
        "--email": "bea@example.com",
        "--timezone": "Europe/Berlin",
        **options,
    }
    return ["create-provider", *[part for pair in values.items() for part in pair]]


def printed(output):
    """The `key: value` lines a command printed."""
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def test_create_provider_prints_an_api_key_and_a_slug(runner):
    result = runner.invoke(args=create_provider_args())
    assert result.exit_code == 0, result.output
    lines = printed(result.output)
    assert lines["api_key"].strip()
    assert lines["slug"] == "dr-bea"


def test_the_printed_key_opens_the_providers_settings(runner, client):
    result = runner.invoke(args=create_provider_args())
    key = printed(result.output)["api_key"]
    settings = ok(client.get("/api/v1/settings", headers={"Authorization": f"Bearer {key}"}))
    assert settings["slug"] == "dr-bea"
    assert settings["timezone"] == "Europe/Berlin"


def test_create_provider_accepts_a_password(runner):
    result = runner.invoke(args=create_provider_args(**{"--password": "correct horse battery"}))
    assert result.exit_code == 0, result.output
    assert "correct horse battery" not in result.output


def test_two_providers_of_the_same_name_get_different_slugs(runner):
    first = printed(runner.invoke(args=create_provider_args()).output)
    second = printed(
        runner.invoke(args=create_provider_args(**{"--email": "bea2@example.com"})).output
    )
    assert first["slug"] != second["slug"]
    assert first["api_key"] != second["api_key"]


def test_create_provider_refuses_an_unknown_time_zone_clearly(runner, client):
    result = runner.invoke(args=create_provider_args(**{"--timezone": "Mars/Olympus"}))
    assert result.exit_code != 0
    assert "Mars/Olympus" in result.output
    assert "time zone" in result.output
    assert "api_key" not in result.output
    assert "Traceback" not in result.output


def test_create_provider_refuses_a_bad_email(runner):
    result = runner.invoke(args=create_provider_args(**{"--email": "not-an-email"}))
    assert result.exit_code != 0
    assert "email" in result.output
    assert "api_key" not in result.output


def test_create_provider_refuses_an_email_already_taken(runner):
    runner.invoke(args=create_provider_args())
    result = runner.invoke(args=create_provider_args(**{"--name": "Someone Else"}))
    assert result.exit_code != 0
    assert "exists" in result.output
    assert "api_key" not in result.output


def test_create_provider_needs_a_time_zone(runner):
    args = ["create-provider", "--name", "Dr. Bea", "--email", "bea@example.com"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "--timezone" in result.output


def test_a_made_up_key_still_opens_nothing(runner, client):
    runner.invoke(args=create_provider_args())
    response = client.get("/api/v1/settings", headers={"Authorization": "Bearer wk_made_up"})
    expect_error(response, 401, "unauthorized")


@pytest.fixture
def expired_purchase(api, make_type, make_client, make_package, buy, clock):
    """Five credits bought on 2020-01-01 that expired a day later, long before real now."""
    clock.now = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
    follow_up = make_type()
    customer = make_client()
    package = make_package(
        [{"appointment_type_id": follow_up["id"], "quantity": 5, "expires_after_days": 1}]
    )
    buy(customer["id"], package["id"])
    return f"/api/v1/clients/{customer['id']}/credits/{follow_up['id']}"


def test_credits_expire_writes_the_expiry_entries_that_are_due(runner, api, expired_purchase):
    result = runner.invoke(args=["credits", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 entries written" in result.output
    body = ok(api.get(expired_purchase))
    assert body["balance"] == 0
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in body["history"]] == [
        ("package_grant", 5, 5),
        ("expiry", -5, 0),
    ]


def test_credits_expire_run_twice_writes_nothing_the_second_time(runner, api, expired_purchase):
    runner.invoke(args=["credits", "expire"])
    result = runner.invoke(args=["credits", "expire"])
    assert result.exit_code == 0, result.output
    assert "0 entries written" in result.output
    kinds = [e["kind"] for e in ok(api.get(expired_purchase))["history"]]
    assert kinds == ["package_grant", "expiry"]


def test_credits_expire_leaves_credits_that_are_not_due(
    runner, api, make_type, make_client, make_package, buy
):
    follow_up = make_type()
    customer = make_client()
    package = make_package(
        [{"appointment_type_id": follow_up["id"], "quantity": 5, "expires_after_days": 3650}]
    )
    buy(customer["id"], package["id"])
    result = runner.invoke(args=["credits", "expire"])
    assert "0 entries written" in result.output
    body = ok(api.get(f"/api/v1/clients/{customer['id']}/credits/{follow_up['id']}"))
    assert body["balance"] == 5

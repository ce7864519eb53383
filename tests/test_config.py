"""Configuration from the environment, and the refusal of development keys in production."""

import pytest

from widget import create_app
from widget.config import DEVELOPMENT_KEY, ConfigurationError, from_environment
from widget.domain import appointment_types, providers
from widget.extensions import db
from widget.models import Provider

from .conftest import app_config


def test_keys_are_listed_oldest_first_and_the_newest_signs():
    config = from_environment("/tmp/i", {"WIDGET_SECRET_KEYS": "old-one, middle ,newest"})
    assert config["SECRET_KEY"] == "newest"
    assert config["SECRET_KEY_FALLBACKS"] == ["middle", "old-one"]


def test_without_keys_development_uses_the_public_key_and_says_so():
    config = from_environment("/tmp/i", {})
    assert config["SECRET_KEY"] == DEVELOPMENT_KEY
    assert config["WIDGET_DEVELOPMENT_KEY"] is True


@pytest.mark.parametrize("keys", ["", DEVELOPMENT_KEY])
def test_production_refuses_the_development_key(keys):
    with pytest.raises(ConfigurationError):
        from_environment("/tmp/i", {"WIDGET_ENV": "production", "WIDGET_SECRET_KEYS": keys})


def test_the_default_database_is_a_file_in_the_instance_folder():
    config = from_environment("/srv/widget/instance", {"WIDGET_SECRET_KEYS": "k"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/widget/instance/widget.db"


def test_rate_limits_can_be_turned_off_for_benchmarks():
    assert (
        from_environment("/tmp/i", {"WIDGET_RATELIMIT_ENABLED": "0"})["RATELIMIT_ENABLED"] is False
    )


def test_session_cookies_are_secure_in_production_or_behind_https():
    assert from_environment("/tmp/i", {})["SESSION_COOKIE_SECURE"] is False
    https = {"WIDGET_BASE_URL": "https://book.clinic.example"}
    assert from_environment("/tmp/i", https)["SESSION_COOKIE_SECURE"] is True
    production = {"WIDGET_ENV": "production", "WIDGET_SECRET_KEYS": "k" * 32}
    assert from_environment("/tmp/i", production)["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_webhooks_into_its_own_network_unless_told_otherwise():
    private = "WIDGET_WEBHOOK_PRIVATE_ADDRESSES"
    assert from_environment("/tmp/i", {})[private] is True  # a developer's local receiver
    production = {"WIDGET_ENV": "production", "WIDGET_SECRET_KEYS": "k" * 32}
    assert from_environment("/tmp/i", production)[private] is False
    assert from_environment("/tmp/i", {**production, private: "1"})[private] is True


@pytest.mark.parametrize(
    ("hops", "expected"), [(0, "http://localhost/l/"), (1, "https://clinic.example/l/")]
)
def test_only_a_trusted_proxy_names_the_public_host_of_links(database_url, hops, expected):
    app = create_app(app_config(database_url, WIDGET_PROXY_HOPS=hops))
    with app.app_context():
        key = providers.create_provider(
            db.session, name="Ada", email="ada@example.com", timezone="UTC"
        ).api_key
        kind = appointment_types.create_appointment_type(
            db.session,
            db.session.scalars(db.select(Provider)).one(),
            {
                "name": "Intro",
                "duration_minutes": 30,
                "audience": "new_clients",
                "requires_credit": False,
            },
        )
        db.session.commit()
        answer = app.test_client().post(
            "/api/v1/share-links",
            json={"appointment_type_ids": [kind.id]},
            headers={
                "Authorization": f"Bearer {key}",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "clinic.example",
            },
        )
        assert answer.get_json()["url"].startswith(expected)
        db.session.remove()
        db.engine.dispose()

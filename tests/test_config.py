"""Configuration from the environment, and the refusal of development keys in production."""

import pytest

from widget.config import DEVELOPMENT_KEY, ConfigurationError, from_environment


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

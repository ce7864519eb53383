"""Settings read from the environment, with defaults that are safe for development only."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEVELOPMENT_KEY = "widget-development-key-do-not-use-in-production"


class ConfigurationError(RuntimeError):
    """The environment asks for something Widget refuses to run with."""


def _secret_keys(env: Mapping[str, str]) -> list[str]:
    raw = env.get("WIDGET_SECRET_KEYS", "")
    return [key.strip() for key in raw.split(",") if key.strip()]


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask config from WIDGET_* variables.

    Keys are listed oldest first, newest last, so the newest signs and the others
    still verify (Flask's SECRET_KEY_FALLBACKS) while a rotation is under way.
    """
    env = os.environ if env is None else env
    production = env.get("WIDGET_ENV", "").strip().lower() == "production"
    keys = _secret_keys(env)
    if not keys:
        if production:
            raise ConfigurationError(
                "WIDGET_ENV=production needs WIDGET_SECRET_KEYS: refusing the development key"
            )
        keys = [DEVELOPMENT_KEY]
    if production and DEVELOPMENT_KEY in keys:
        raise ConfigurationError("WIDGET_ENV=production refuses the development key")

    base_url = env.get("WIDGET_BASE_URL", "").rstrip("/")
    database_url = env.get("WIDGET_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "widget.db")
    )
    return {
        "WIDGET_ENV": "production" if production else "development",
        "WIDGET_DEVELOPMENT_KEY": DEVELOPMENT_KEY in keys,
        "SECRET_KEY": keys[-1],
        "SECRET_KEY_FALLBACKS": list(reversed(keys[:-1])),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WIDGET_BASE_URL": base_url or None,
        "WIDGET_SMTP_URL": env.get("WIDGET_SMTP_URL") or None,
        "WIDGET_MAIL_FROM": env.get("WIDGET_MAIL_FROM") or "Widget <no-reply@localhost>",
        "WIDGET_DEV_MAIL": False,
        "RATELIMIT_STORAGE_URI": env.get("WIDGET_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_ENABLED": _flag(env, "WIDGET_RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "WIDGET_RATELIMIT_SUBMIT": env.get("WIDGET_RATELIMIT_SUBMIT", "30 per minute;300 per day"),
        "WIDGET_RATELIMIT_READ": env.get("WIDGET_RATELIMIT_READ", "600 per minute"),
        "WIDGET_PROXY_HOPS": int(env.get("WIDGET_PROXY_HOPS") or 0),
        # A receiver on this machine is how a developer tries webhooks; in production it
        # would let a provider's URL reach into the operator's network.
        "WIDGET_WEBHOOK_PRIVATE_ADDRESSES": _flag(
            env, "WIDGET_WEBHOOK_PRIVATE_ADDRESSES", not production
        ),
        "WIDGET_RATELIMIT_LOGIN": env.get("WIDGET_RATELIMIT_LOGIN", "10 per minute"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or base_url.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": 14 * 24 * 60 * 60,
        "WTF_CSRF_TIME_LIMIT": 8 * 60 * 60,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "JSON_SORT_KEYS": False,
    }

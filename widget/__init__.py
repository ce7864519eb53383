"""Widget: an embeddable booking backend for health and wellness providers."""

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, config, demo, mail, outbox, webhook_calls
from .blueprints import admin, api, auth, dev, pages, portal
from .extensions import configure_engine, csrf, db, limiter, migrate, read_without_transaction
from .models import OutboxMessage, WebhookDelivery

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then test overrides; then extensions."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    if app.logger.level == logging.NOTSET:
        app.logger.setLevel(logging.INFO)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    hops = app.config["WIDGET_PROXY_HOPS"]
    if hops:
        # Behind a reverse proxy: trust its X-Forwarded-For/-Proto/-Host, and only its own.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    db.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)
    with app.app_context():
        configure_engine(db.engine)
        app.logger.info("database: %s", db.engine.url.render_as_string(hide_password=True))

    @app.before_request
    def _begin() -> None:
        read_without_transaction(app.view_functions.get(request.endpoint or ""))

    @app.teardown_request
    def _end_transaction(_exc: BaseException | None) -> None:
        """A request's transaction ends with it, even where an app context outlives it."""
        db.session.remove()

    app.url_map.converters["id"] = api.IdConverter
    app.register_blueprint(api.bp)
    app.register_blueprint(api.public_bp)
    app.register_blueprint(pages.bp)
    for bearer_or_signed in (api.bp, api.public_bp, pages.bp):
        csrf.exempt(bearer_or_signed)
    app.register_blueprint(auth.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(admin.bp)
    pages.framing.install(app)
    app.register_blueprint(dev.bp)
    app.register_blueprint(demo.bp)
    outbox.init_app(
        app,
        {
            OutboxMessage: mail.deliver_due_mail,
            WebhookDelivery: webhook_calls.deliver_due_webhooks,
        },
    )
    api.register_error_handlers(app)
    cli.register(app)

    if app.config["WIDGET_DEVELOPMENT_KEY"]:
        app.logger.warning(
            "WIDGET_SECRET_KEYS is not set: signing with the public development key. "
            "Anyone could forge links and sessions. Never run like this in production."
        )
    return app

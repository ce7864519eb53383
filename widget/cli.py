"""Command-line tools: `flask --app widget ...`, or the `widget` script."""

import os

import click
import flask_migrate
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import text
from werkzeug.security import generate_password_hash
from werkzeug.serving import run_simple

from . import demo, outbox
from .blueprints.link_flow import signing_keys
from .domain import credits, idempotency, links, providers
from .domain.errors import DomainError
from .extensions import db
from .models import utcnow

credits_cli = AppGroup("credits", help="Credit ledger maintenance.")
idempotency_cli = AppGroup("idempotency", help="Idempotency-Key maintenance.")
outbox_cli = AppGroup("outbox", help="Email outbox.")


@click.command("create-provider")
@click.option("--name", required=True, help="Shown to clients, e.g. 'Dr. Ada'.")
@click.option("--email", required=True, help="The provider's login email.")
@click.option("--timezone", required=True, help="IANA zone of the working hours.")
@click.option("--password", default=None, help="Dashboard password (optional).")
def create_provider_command(name: str, email: str, timezone: str, password: str | None) -> None:
    """Create a provider account and print its API key (shown only once) and slug."""
    try:
        created = providers.create_provider(
            db.session,
            name=name,
            email=email,
            timezone=timezone,
            password_hash=generate_password_hash(password) if password else None,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        problems = "; ".join(f"{field} {message}" for field, message in exc.details.items())
        raise click.ClickException(problems or exc.message) from None
    click.echo(f"api_key: {created.api_key}")
    click.echo(f"slug: {created.provider.slug}")


@credits_cli.command("expire")
def expire_credits_command() -> None:
    """Write the expiry entries that are due (run it from a scheduler, e.g. hourly)."""
    written = credits.expire_credits(db.session, utcnow())
    db.session.commit()
    click.echo(f"expired credits: {written} entries written")


@idempotency_cli.command("prune")
def prune_idempotency_command() -> None:
    """Forget Idempotency-Keys older than 24 hours (run it from a scheduler, e.g. daily)."""
    removed = idempotency.prune(db.session, utcnow())
    db.session.commit()
    click.echo(f"idempotency keys pruned: {removed}")


@outbox_cli.command("deliver")
@click.option(
    "--limit", default=outbox.DELIVERY_LIMIT, show_default=True, help="At most this many of each."
)
def deliver_outbox_command(limit: int) -> None:
    """Send the emails and webhook calls that are due, retrying failed ones (run it each minute)."""
    counts = outbox.deliver_everything(limit=limit)
    click.echo(f"sent: {sum(c.sent for c in counts.values())}")
    click.echo(f"failed: {sum(c.failed for c in counts.values())}")
    for kind, count in counts.items():
        click.echo(f"  {kind}: {count.sent} sent, {count.failed} failed")


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Drop every table and seed the demo afresh.")
@click.option("--no-serve", is_flag=True, help="Seed and print the URLs, then exit.")
def demo_command(host: str, port: int, reset: bool, no_serve: bool) -> None:
    """Seed a demo practice (idempotent) and serve it with a sample provider website."""
    base = f"http://{host}:{port}"
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.config.update(WIDGET_DEMO=True, WIDGET_DEV_MAIL=True, WIDGET_BASE_URL=base)
    with app.app_context():
        if reset:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        flask_migrate.upgrade()
        practice = demo.seed(db.session, utcnow(), base)
        db.session.commit()
        slug = practice.provider.slug
        lines = [
            "Widget demo "
            + ("seeded" if practice.created else "found (use --reset to start over)"),
            f"  database:           {db.engine.url.render_as_string(hide_password=True)}",
            f"  sample website:     {base}/demo/",
            f"  booking page:       {base}/l/{links.token_for(practice.link, signing_keys())}",
            f"  dashboard:          {base}/admin/  (login {demo.EMAIL} / {demo.PASSWORD})",
            f"  client portal:      {base}/portal/{slug}/  (clients kim@, lee@, sam@example.com)",
            f"  Kim's magic link:   {base}{demo.magic_link_path(practice, signing_keys())}"
            "  (15 minutes, once)",
            f"  emails sent:        {base}/dev/mail",
            f"  API key:            {practice.api_key}  (new on every run)",
        ]
        click.echo("\n".join(lines))
    if not no_serve:
        run_simple(host, port, app, threaded=True)


def register(app: Flask) -> None:
    app.cli.add_command(create_provider_command)
    app.cli.add_command(credits_cli)
    app.cli.add_command(idempotency_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_command)


def main() -> None:
    """The `widget` script: the same commands as `flask --app widget`."""
    os.environ.setdefault("FLASK_APP", "widget")
    FlaskGroup(help="Widget: the booking backend.")()

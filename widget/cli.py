"""Command-line tools: `flask --app widget ...`, or the `widget` script."""

import os

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup
from werkzeug.security import generate_password_hash

from . import mail
from .domain import credits, idempotency, providers
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
@click.option("--limit", default=mail.DELIVERY_LIMIT, show_default=True, help="At most this many.")
def deliver_outbox_command(limit: int) -> None:
    """Send the emails that are due, retrying failed ones (run it from a scheduler, each minute)."""
    counts = mail.deliver_due_mail(limit=limit)
    click.echo(f"sent: {counts.sent}")
    click.echo(f"failed: {counts.failed}")


def register(app: Flask) -> None:
    app.cli.add_command(create_provider_command)
    app.cli.add_command(credits_cli)
    app.cli.add_command(idempotency_cli)
    app.cli.add_command(outbox_cli)


def main() -> None:
    """The `widget` script: the same commands as `flask --app widget`."""
    os.environ.setdefault("FLASK_APP", "widget")
    FlaskGroup(help="Widget: the booking backend.")()

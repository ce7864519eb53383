"""Who is logged in: providers by password, clients by magic link or a password they set.

Login answers never say whether an account exists (a wrong email and a wrong
password read the same, and asking for a magic link always answers "sent"). A magic
link works once for 15 minutes: it carries the client's last login time, which the
login moves. A password-set link carries a mark of the current password, so it too
works once.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import Client, Provider
from . import tokens
from .clients import client_by_email
from .emails import normalise_email
from .errors import Refused, ValidationFailed

MAGIC_LINK_SECONDS = 15 * 60
PASSWORD_LINK_SECONDS = 24 * 60 * 60
MIN_PASSWORD_LENGTH = 10
# Checked when no account matches, so a wrong email costs as much time as a wrong password.
_NOBODY = generate_password_hash("not a password of anyone")


def provider_by_login(session: Session, email: str, password: str) -> Provider | None:
    provider = session.scalar(select(Provider).where(Provider.email == normalise_email(email)))
    return provider if _password_matches(provider, password) else None


def client_by_login(
    session: Session, provider: Provider, email: str, password: str
) -> Client | None:
    client = client_by_email(session, provider, email)
    return client if _password_matches(client, password) else None


def _password_matches(account: Provider | Client | None, password: str) -> bool:
    stored = account.password_hash if account is not None else None
    matches = check_password_hash(stored or _NOBODY, password)
    return matches and stored is not None


def _login_mark(client: Client) -> int:
    """The last login to the microsecond: a link used once never matches again."""
    last = client.last_login_at
    return round(last.timestamp() * 1_000_000) if last else 0


def magic_token(client: Client, keys: Sequence[str]) -> str:
    return tokens.sign_timed(
        {"client": client.id, "since": _login_mark(client)}, keys, tokens.MAGIC_LOGIN
    )


def _client_of_token(
    session: Session, provider: Provider, token: str, keys: Sequence[str], purpose: str, age: int
) -> tuple[Client, dict[str, object]]:
    value = tokens.unsign_fresh(token, keys, purpose, age)
    # Locked: the link is checked against the client's row and then spends itself by
    # changing it, so of two uses at once the second must see what the first changed.
    client = (
        session.get(Client, value.get("client"), with_for_update=True, populate_existing=True)
        if isinstance(value, dict)
        else None
    )
    if client is None or client.provider_id != provider.id:
        raise Refused("link_invalid", "This link is not valid.")
    return client, value


def log_in_by_magic_link(
    session: Session, provider: Provider, token: str, keys: Sequence[str], now: datetime
) -> Client:
    client, value = _client_of_token(
        session, provider, token, keys, tokens.MAGIC_LOGIN, MAGIC_LINK_SECONDS
    )
    if value.get("since") != _login_mark(client):
        raise Refused("link_used", "This login link has been used already; ask for a new one.")
    record_login(session, client, now)
    return client


def record_login(session: Session, client: Client, now: datetime) -> None:
    """Move the login mark, even within one clock tick, so every link sent before is spent."""
    last = client.last_login_at
    client.last_login_at = now if last is None or now > last else last + timedelta(microseconds=1)
    session.flush()


def _password_mark(client: Client) -> str:
    return (client.password_hash or "")[-12:]


def password_token(client: Client, keys: Sequence[str]) -> str:
    return tokens.sign_timed(
        {"client": client.id, "mark": _password_mark(client)}, keys, tokens.PASSWORD_SET
    )


def client_for_password_link(
    session: Session, provider: Provider, token: str, keys: Sequence[str]
) -> Client:
    client, value = _client_of_token(
        session, provider, token, keys, tokens.PASSWORD_SET, PASSWORD_LINK_SECONDS
    )
    if value.get("mark") != _password_mark(client):
        raise Refused("link_used", "This link has been used already; ask for a new one.")
    return client


def set_client_password(
    session: Session, provider: Provider, token: str, keys: Sequence[str], password: str
) -> Client:
    client = client_for_password_link(session, provider, token, keys)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {"password": f"must be at least {MIN_PASSWORD_LENGTH} characters long"}
        )
    client.password_hash = generate_password_hash(password)
    session.flush()
    return client


def provider_by_slug(session: Session, slug: str) -> Provider | None:
    return session.scalar(select(Provider).where(Provider.slug == slug))

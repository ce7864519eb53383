"""Clients of a provider, and whether each counts as new or existing."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from ..models import Booking, BookingStatus, Client, ClientPackage, Provider
from .emails import checked_email, normalise_email
from .errors import Conflict, NotFound, ValidationFailed


def is_existing_expression() -> ColumnElement[bool]:
    """SQL for DESIGN's rule: any client package, or a confirmed or no-show booking."""
    has_package = exists().where(ClientPackage.client_id == Client.id)
    has_booking = exists().where(
        Booking.client_id == Client.id,
        Booking.status.in_((BookingStatus.confirmed, BookingStatus.no_show)),
    )
    return has_package | has_booking


def is_existing(session: Session, client: Client, *, for_decision: bool = False) -> bool:
    """Whether the client counts as existing. `for_decision`: a booking is about to be
    decided on the answer, so the client's row is locked first (on PostgreSQL; SQLite's
    transaction holds the write lock already) and the answer read after it: two bookings
    of a new-client type at once cannot both find the client new."""
    if for_decision and _needs_locks(session):
        session.execute(_LOCK_CLIENT, {"client_id": client.id})
    return bool(session.scalar(select(is_existing_expression()).where(Client.id == client.id)))


def create_client(session: Session, provider: Provider, *, email: str, name: str) -> Client:
    email = checked_email(email)
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "must not be empty"})
    if identify(session, provider, email) is not None:
        taken = f"A client with the email {email} exists already."
        raise Conflict(taken, details={"email": taken})
    client = Client(provider_id=provider.id, email=email, name=name)
    session.add(client)
    session.flush()
    return client


_CLIENT_BY_EMAIL = select(Client).where(
    Client.provider_id == bindparam("provider_id"), Client.email == bindparam("email")
)
_LOCK_EMAIL = select(
    func.pg_advisory_xact_lock(bindparam("provider_id"), func.hashtext(bindparam("email")))
)
_LOCK_CLIENT = select(Client.id).where(Client.id == bindparam("client_id")).with_for_update()


def _needs_locks(session: Session) -> bool:
    """PostgreSQL needs row locks to serialise decisions; a SQLite transaction starts with
    the database's write lock (BEGIN IMMEDIATE), so nothing can interleave."""
    return session.get_bind().dialect.name == "postgresql"


def client_by_email(session: Session, provider: Provider, email: str) -> Client | None:
    return session.scalar(
        _CLIENT_BY_EMAIL, {"provider_id": provider.id, "email": normalise_email(email)}
    )


def identify(session: Session, provider: Provider, email: str) -> Client | None:
    """The client an email belongs to, before a request may create one for it.

    An unknown email is locked for the rest of the transaction and looked up again: of
    two requests at once for a new email, the second waits and then finds the client the
    first created, instead of deciding on a new client and failing on the unique email.
    A known email costs the one lookup.
    """
    client = client_by_email(session, provider, email)
    if client is None and _needs_locks(session):
        session.execute(_LOCK_EMAIL, {"provider_id": provider.id, "email": normalise_email(email)})
        client = client_by_email(session, provider, email)
    return client


_CLIENT_OF = select(Client).where(
    Client.id == bindparam("client_id"), Client.provider_id == bindparam("provider_id")
)


def client_of(
    session: Session, provider: Provider, client_id: int, *, field: str | None = None
) -> Client:
    client = session.scalar(_CLIENT_OF, {"client_id": client_id, "provider_id": provider.id})
    if client is None:
        raise NotFound("No such client.", field=field, detail=f"no client with id {client_id}")
    return client


def clients_with_status(
    session: Session, provider: Provider, *, email: str | None = None
) -> list[tuple[Client, bool]]:
    """Clients and their existing flag, in one query."""
    query = (
        select(Client, is_existing_expression())
        .where(Client.provider_id == provider.id)
        .order_by(Client.id)
    )
    if email is not None:
        query = query.where(Client.email == normalise_email(email))
    return [(client, bool(existing)) for client, existing in session.execute(query)]


SEARCH_LIMIT = 100
"""How many clients a search lists at most: enough to scan, few enough to stay quick."""


@dataclass(frozen=True)
class ClientSearch:
    """The first clients that match a search, each with its existing flag, and the counts."""

    found: list[tuple[Client, bool]]
    matches: int  # all the clients that match, listed or not
    total: int  # all the provider's clients, matching or not

    @property
    def cut_short(self) -> bool:
        return len(self.found) < self.matches


def _matching(text: str) -> ColumnElement[bool]:
    """Every word of the text is part of the client's name or email, in any case.

    A word's % and _ mean themselves, not LIKE's wildcards."""
    name, email = func.lower(Client.name), func.lower(Client.email)
    return and_(
        true(),
        *(
            or_(name.contains(word, autoescape=True), email.contains(word, autoescape=True))
            for word in text.lower().split()
        ),
    )


def search_clients(
    session: Session, provider: Provider, text: str = "", *, limit: int = SEARCH_LIMIT
) -> ClientSearch:
    """The provider's clients whose name or email holds every word of the text (all of them
    for blank text), oldest first, at most `limit` of them: two queries however many match."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    matching = _matching(text)
    mine = Client.provider_id == provider.id
    total, matches = session.execute(
        select(func.count(Client.id), func.count(case((matching, Client.id)))).where(mine)
    ).one()
    rows = session.execute(
        select(Client, is_existing_expression())
        .where(mine, matching)
        .order_by(Client.id)
        .limit(limit)
    )
    return ClientSearch(
        found=[(client, bool(existing)) for client, existing in rows],
        matches=matches,
        total=total,
    )

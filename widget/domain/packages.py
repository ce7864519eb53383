"""Packages of sessions, and the client packages that record a purchase."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    Client,
    ClientPackage,
    ClientPackageStatus,
    CreditEntry,
    EntryKind,
    Package,
    PackageItem,
    Provider,
)
from .appointment_types import appointment_types_by_id
from .clients import client_of
from .credits import grant_credits
from .errors import InvalidState, NotFound, ValidationFailed


@dataclass(frozen=True)
class ItemSpec:
    appointment_type_id: int
    quantity: int
    expires_after_days: int | None = None


@dataclass(frozen=True)
class Purchase:
    client_package: ClientPackage
    grants: list[CreditEntry]


def create_package(
    session: Session, provider: Provider, *, name: str, price_cents: int, items: list[ItemSpec]
) -> Package:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "must not be empty"
    if not items:
        errors["items"] = "must list at least one appointment type"
    seen: set[int] = set()
    for index, item in enumerate(items):
        if item.appointment_type_id in seen:
            errors[f"items.{index}.appointment_type_id"] = "appears twice: add up the quantities"
        seen.add(item.appointment_type_id)
    if errors:
        raise ValidationFailed(errors)
    known = appointment_types_by_id(session, provider, [item.appointment_type_id for item in items])
    for index, item in enumerate(items):
        if item.appointment_type_id not in known:
            raise NotFound(
                "No such appointment type.",
                field=f"items.{index}.appointment_type_id",
                detail=f"no appointment type with id {item.appointment_type_id}",
            )
    package = Package(
        provider_id=provider.id,
        name=name.strip(),
        price_cents=price_cents,
        items=[
            PackageItem(
                appointment_type_id=item.appointment_type_id,
                quantity=item.quantity,
                expires_after_days=item.expires_after_days,
            )
            for item in items
        ],
    )
    session.add(package)
    session.flush()
    return package


def change_package(
    session: Session, provider: Provider, package_id: int, changes: dict[str, Any]
) -> Package:
    """Rename, reprice, or stop and resume selling a package (`name`, `price_cents`,
    `active`). Its contents stay as they are: clients who bought it were granted credits
    by what it held then, and a package that sells something else is a new package."""
    package = package_of(session, provider, package_id)
    if "name" in changes:
        if not changes["name"].strip():
            raise ValidationFailed({"name": "must not be empty"})
        package.name = changes["name"].strip()
    if "price_cents" in changes:
        package.price_cents = changes["price_cents"]
    if "active" in changes:
        package.active = changes["active"]
    session.flush()
    return package


def packages_of(session: Session, provider: Provider) -> list[Package]:
    return list(
        session.scalars(
            select(Package)
            .where(Package.provider_id == provider.id)
            .options(selectinload(Package.items))
            .order_by(Package.id)
        )
    )


def package_of(
    session: Session, provider: Provider, package_id: int, *, field: str | None = None
) -> Package:
    package = session.scalar(
        select(Package).where(Package.id == package_id, Package.provider_id == provider.id)
    )
    if package is None:
        raise NotFound("No such package.", field=field, detail=f"no package with id {package_id}")
    return package


def buy_package(
    session: Session, provider: Provider, *, client_id: int, package_id: int, now: datetime
) -> Purchase:
    """Record a purchase (paid elsewhere): one package_grant per item, in one transaction."""
    client = client_of(session, provider, client_id)
    package = package_of(session, provider, package_id, field="package_id")
    if not package.active:
        raise ValidationFailed({"package_id": "this package is no longer sold"})
    client_package = ClientPackage(
        provider_id=provider.id,
        client_id=client.id,
        package_id=package.id,
        status=ClientPackageStatus.active,
        purchased_at=now,
    )
    session.add(client_package)
    session.flush()
    grants = [
        grant_credits(
            session,
            provider_id=provider.id,
            client_id=client.id,
            type_id=item.appointment_type_id,
            quantity=item.quantity,
            client_package_id=client_package.id,
            expires_at=(
                now + timedelta(days=item.expires_after_days) if item.expires_after_days else None
            ),
            now=now,
        )
        # A fixed order of account locks, so two purchases can never deadlock.
        for item in sorted(package.items, key=lambda item: item.appointment_type_id)
    ]
    session.flush()
    return Purchase(client_package, grants)


def _client_package_to_change(
    session: Session, provider: Provider, client_package_id: int
) -> ClientPackage:
    """The provider's client package, locked: an archive and a delete at once are decided
    one after the other."""
    client_package = session.scalar(
        select(ClientPackage)
        .where(ClientPackage.id == client_package_id, ClientPackage.provider_id == provider.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if client_package is None:
        raise NotFound("No such client package.")
    return client_package


def grants_of(session: Session, client_package: ClientPackage) -> list[CreditEntry]:
    return list(
        session.scalars(
            select(CreditEntry)
            .where(
                CreditEntry.client_package_id == client_package.id,
                CreditEntry.kind == EntryKind.package_grant,
            )
            .order_by(CreditEntry.id)
        )
    )


def client_packages_of(
    session: Session, client: Client
) -> list[tuple[ClientPackage, list[CreditEntry]]]:
    """The client's purchases, each with the grants it made, in two queries."""
    found = list(
        session.scalars(
            select(ClientPackage)
            .where(ClientPackage.client_id == client.id)
            .order_by(ClientPackage.id)
        )
    )
    grants: dict[int, list[CreditEntry]] = {cp.id: [] for cp in found}
    for entry in session.scalars(
        select(CreditEntry)
        .where(
            CreditEntry.client_package_id.in_(grants),
            CreditEntry.kind == EntryKind.package_grant,
        )
        .order_by(CreditEntry.id)
    ):
        grants[entry.client_package_id].append(entry)  # type: ignore[index]
    return [(cp, grants[cp.id]) for cp in found]


def archive_client_package(
    session: Session, provider: Provider, client_package_id: int, now: datetime
) -> ClientPackage:
    """Hide a purchase from the active list. Its credits stay: no ledger entry is written."""
    client_package = _client_package_to_change(session, provider, client_package_id)
    if client_package.status == ClientPackageStatus.deleted:
        raise InvalidState("A deleted client package cannot be archived.")
    if client_package.status == ClientPackageStatus.active:
        client_package.status = ClientPackageStatus.archived
        client_package.archived_at = now
    return client_package


def delete_client_package(
    session: Session, provider: Provider, client_package_id: int, now: datetime
) -> ClientPackage:
    """Mark a purchase deleted. Its credits stay; a provider removes them with an adjustment."""
    client_package = _client_package_to_change(session, provider, client_package_id)
    if client_package.status != ClientPackageStatus.deleted:
        client_package.status = ClientPackageStatus.deleted
        client_package.deleted_at = now
    return client_package

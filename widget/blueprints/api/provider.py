"""Provider API: settings, appointment types, hours, packages, clients and their credits."""

from flask import jsonify
from flask.typing import ResponseReturnValue

from ...domain import appointment_types, clients, credits, packages, providers, schedule
from ...extensions import db
from . import schemas
from .base import (
    BodyAndStatus,
    bp,
    current_provider,
    idempotent,
    now,
    parse_body,
    parse_query,
)
from .render import (
    appointment_type_json,
    client_json,
    client_package_json,
    entry_json,
    package_json,
)


@bp.get("/settings")
def get_settings() -> ResponseReturnValue:
    return jsonify(providers.settings_of(current_provider()))


@bp.patch("/settings")
def patch_settings() -> ResponseReturnValue:
    changes = schemas.changes_of(parse_body(schemas.SettingsPatch))
    provider = providers.update_settings(current_provider(), changes)
    db.session.commit()
    return jsonify(providers.settings_of(provider))


@bp.post("/appointment-types")
@idempotent()
def create_appointment_type() -> BodyAndStatus:
    body = parse_body(schemas.AppointmentTypeFields)
    created = appointment_types.create_appointment_type(
        db.session, current_provider(), body.model_dump()
    )
    return appointment_type_json(created, current_provider()), 201


@bp.get("/appointment-types")
def list_appointment_types() -> ResponseReturnValue:
    provider = current_provider()
    found = appointment_types.appointment_types_of(db.session, provider)
    return jsonify({"appointment_types": [appointment_type_json(t, provider) for t in found]})


@bp.get("/appointment-types/<id:type_id>")
def get_appointment_type(type_id: int) -> ResponseReturnValue:
    found = appointment_types.appointment_type_of(db.session, current_provider(), type_id)
    return jsonify(appointment_type_json(found, current_provider()))


@bp.patch("/appointment-types/<id:type_id>")
def patch_appointment_type(type_id: int) -> ResponseReturnValue:
    body = parse_body(schemas.AppointmentTypePatch)
    changes = schemas.changes_of(body, nullable=schemas.AppointmentTypePatch.NULLABLE)
    updated = appointment_types.update_appointment_type(
        db.session, current_provider(), type_id, changes
    )
    db.session.commit()
    return jsonify(appointment_type_json(updated, current_provider()))


@bp.put("/availability")
def put_availability() -> ResponseReturnValue:
    body = parse_body(schemas.Availability)
    provider = current_provider()
    schedule.replace_availability(
        db.session,
        provider,
        weekly={day: [r.model_dump() for r in ranges] for day, ranges in body.weekly.items()},
        exceptions=[e.model_dump() for e in body.exceptions],
    )
    db.session.commit()
    return jsonify(schedule.availability_of(db.session, provider))


@bp.get("/availability")
def get_availability() -> ResponseReturnValue:
    return jsonify(schedule.availability_of(db.session, current_provider()))


@bp.post("/packages")
@idempotent()
def create_package() -> BodyAndStatus:
    body = parse_body(schemas.PackageFields)
    created = packages.create_package(
        db.session,
        current_provider(),
        name=body.name,
        price_cents=body.price_cents,
        items=[packages.ItemSpec(**item.model_dump()) for item in body.items],
    )
    return package_json(created), 201


@bp.get("/packages")
def list_packages() -> ResponseReturnValue:
    found = packages.packages_of(db.session, current_provider())
    return jsonify({"packages": [package_json(p) for p in found]})


@bp.get("/packages/<id:package_id>")
def get_package(package_id: int) -> ResponseReturnValue:
    return jsonify(package_json(packages.package_of(db.session, current_provider(), package_id)))


@bp.patch("/packages/<id:package_id>")
def patch_package(package_id: int) -> ResponseReturnValue:
    changes = schemas.changes_of(parse_body(schemas.PackagePatch))
    changed = packages.change_package(db.session, current_provider(), package_id, changes)
    db.session.commit()
    return jsonify(package_json(changed))


@bp.post("/clients")
@idempotent()
def create_client() -> BodyAndStatus:
    body = parse_body(schemas.ClientFields)
    client = clients.create_client(db.session, current_provider(), email=body.email, name=body.name)
    return client_json(client, existing=False), 201


@bp.get("/clients")
def list_clients() -> ResponseReturnValue:
    query = parse_query(schemas.ClientQuery)
    found = clients.clients_with_status(db.session, current_provider(), email=query.email)
    return jsonify({"clients": [client_json(c, existing) for c, existing in found]})


@bp.get("/clients/<id:client_id>")
def get_client(client_id: int) -> ResponseReturnValue:
    client = clients.client_of(db.session, current_provider(), client_id)
    return jsonify(client_json(client, clients.is_existing(db.session, client)))


@bp.post("/clients/<id:client_id>/packages")
@idempotent()
def buy_package(client_id: int) -> BodyAndStatus:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    body = parse_body(schemas.Purchase)
    purchase = packages.buy_package(
        db.session, provider, client_id=client.id, package_id=body.package_id, now=now()
    )
    return client_package_json(purchase.client_package, purchase.grants), 201


@bp.get("/clients/<id:client_id>/packages")
def list_client_packages(client_id: int) -> ResponseReturnValue:
    client = clients.client_of(db.session, current_provider(), client_id)
    found = packages.client_packages_of(db.session, client)
    return jsonify({"client_packages": [client_package_json(cp, grants) for cp, grants in found]})


@bp.post("/client-packages/<id:client_package_id>/archive")
@idempotent()
def archive_client_package(client_package_id: int) -> BodyAndStatus:
    cp = packages.archive_client_package(db.session, current_provider(), client_package_id, now())
    return client_package_json(cp, packages.grants_of(db.session, cp)), 200


@bp.delete("/client-packages/<id:client_package_id>")
def delete_client_package(client_package_id: int) -> ResponseReturnValue:
    cp = packages.delete_client_package(db.session, current_provider(), client_package_id, now())
    db.session.commit()
    return jsonify(client_package_json(cp, packages.grants_of(db.session, cp)))


@bp.get("/clients/<id:client_id>/credits")
def list_credits(client_id: int) -> ResponseReturnValue:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    accounts = credits.client_balances(
        db.session, provider_id=provider.id, client_id=client.id, now=now()
    )
    db.session.commit()
    return jsonify(
        {
            "credits": [
                {
                    "appointment_type_id": account.appointment_type.id,
                    "appointment_type": account.appointment_type.name,
                    "balance": account.balance,
                }
                for account in accounts
            ]
        }
    )


@bp.get("/clients/<id:client_id>/credits/<id:type_id>")
def credit_history(client_id: int, type_id: int) -> ResponseReturnValue:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    appointment_type = appointment_types.appointment_type_of(db.session, provider, type_id)
    balance, entries = credits.account_history(
        db.session,
        provider_id=provider.id,
        client_id=client.id,
        type_id=appointment_type.id,
        now=now(),
    )
    db.session.commit()
    return jsonify({"balance": balance, "history": [entry_json(e) for e in entries]})


@bp.post("/clients/<id:client_id>/credits/<id:type_id>/adjustments")
@idempotent()
def adjust_credits(client_id: int, type_id: int) -> BodyAndStatus:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    appointment_type = appointment_types.appointment_type_of(db.session, provider, type_id)
    body = parse_body(schemas.Adjustment)
    entry = credits.adjust_credits(
        db.session,
        provider_id=provider.id,
        client_id=client.id,
        type_id=appointment_type.id,
        delta=body.delta,
        note=body.note,
        actor=provider.name,
        now=now(),
    )
    return entry_json(entry), 201

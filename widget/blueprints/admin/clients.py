"""Clients: search, profiles, package purchases, and each credit account's history."""

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.widgets import NumberInput

from ...domain import appointment_types, clients, credits, packages, portal_view
from ...domain.credit_history import account_story
from ...extensions import db
from ...models import Client, ClientPackage, Package
from ..api import schemas
from ..api.base import now
from ..auth import provider_required
from .base import (
    Form,
    bp,
    current_provider,
    given,
    number,
    options,
    page,
    provider_zone,
)


class ClientForm(Form):
    name = StringField("Name")
    email = EmailField("Email")


class PurchaseForm(Form):
    package_id = SelectField("Package", choices=[], default="")


class AdjustmentForm(Form):
    delta = StringField("Change in credits", widget=NumberInput())
    note = TextAreaField("Note (required)")


# Clients


@bp.route("/clients", methods=["GET", "POST"])
@provider_required
def client_list() -> ResponseReturnValue:
    provider = current_provider()
    form = ClientForm()
    if request.method == "POST":
        body = form.checked(schemas.ClientFields, given(name=form.name.data, email=form.email.data))
        if body is not None:
            client = form.attempt(
                lambda: clients.create_client(
                    db.session, provider, email=body.email, name=body.name
                )
            )
            if client is not None:
                flash(f"Added {client.name}.")
                return redirect(url_for("admin.client_profile", client_id=client.id))
    query = request.args.get("q", "").strip()
    search = clients.search_clients(db.session, provider, query)
    return page(
        "admin/clients.html",
        422 if form.errors else 200,
        form=form,
        query=query,
        found=search.found,
        matches=search.matches,
        cut_short=search.cut_short,
        total=search.total,
    )


def _offer_packages(form: PurchaseForm) -> list[Package]:
    """The packages still sold, as the form's choices."""
    sold = [p for p in packages.packages_of(db.session, current_provider()) if p.active]
    form.package_id.choices = options(((p.id, p.name) for p in sold), blank="Choose a package")
    return sold


def _profile(client: Client, purchase: PurchaseForm) -> ResponseReturnValue:
    provider = current_provider()
    balances = credits.client_balances(
        db.session, provider_id=provider.id, client_id=client.id, now=now()
    )
    db.session.commit()  # expiries that fell due are written, as on every account read
    sold = _offer_packages(purchase)
    upcoming, past = portal_view.bookings_of_client(db.session, provider, client, now())
    return page(
        "admin/client.html",
        422 if purchase.errors else 200,
        client=client,
        existing=clients.is_existing(db.session, client),
        balances=balances,
        purchases=packages.client_packages_of(db.session, client),
        type_names={
            t.id: t.name for t in appointment_types.appointment_types_of(db.session, provider)
        },
        upcoming=[mine.booking for mine in upcoming],
        past=[mine.booking for mine in past],
        purchase=purchase,
        sold=sold,
    )


@bp.get("/clients/<id:client_id>")
@provider_required
def client_profile(client_id: int) -> ResponseReturnValue:
    client = clients.client_of(db.session, current_provider(), client_id)
    return _profile(client, PurchaseForm(formdata=None))


@bp.post("/clients/<id:client_id>/packages")
@provider_required
def record_purchase(client_id: int) -> ResponseReturnValue:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    form = PurchaseForm()
    _offer_packages(form)
    body = form.checked(schemas.Purchase, given(package_id=number(form.package_id.data)))
    if body is None:
        return _profile(client, form)
    bought = form.attempt(
        lambda: packages.buy_package(
            db.session, provider, client_id=client.id, package_id=body.package_id, now=now()
        )
    )
    if bought is None:
        return _profile(client, form)
    names = {t.id: t.name for t in appointment_types.appointment_types_of(db.session, provider)}
    granted = ", ".join(f"+{e.delta} {names[e.appointment_type_id]}" for e in bought.grants)
    flash(f"Recorded '{bought.client_package.package.name}' for {client.name}: {granted}.")
    return redirect(url_for("admin.client_profile", client_id=client.id))


def _status_changed(client_package: ClientPackage, done: str) -> ResponseReturnValue:
    db.session.commit()
    flash(
        f"{done} '{client_package.package.name}'. Its credits stay with the client: no balance "
        "changed. To take credits away, make a manual adjustment in the credit history."
    )
    return redirect(url_for("admin.client_profile", client_id=client_package.client_id))


@bp.post("/client-packages/<id:client_package_id>/archive")
@provider_required
def archive_client_package(client_package_id: int) -> ResponseReturnValue:
    archived = packages.archive_client_package(
        db.session, current_provider(), client_package_id, now()
    )
    return _status_changed(archived, "Archived")


@bp.post("/client-packages/<id:client_package_id>/delete")
@provider_required
def delete_client_package(client_package_id: int) -> ResponseReturnValue:
    deleted = packages.delete_client_package(
        db.session, current_provider(), client_package_id, now()
    )
    return _status_changed(deleted, "Deleted")


# Credit history


def _history(client: Client, type_id: int, form: AdjustmentForm) -> ResponseReturnValue:
    """The account as its client reads it in the portal, with the provider's adjustment form."""
    provider = current_provider()
    appointment_type = appointment_types.appointment_type_of(db.session, provider, type_id)
    story = account_story(
        db.session, provider, client, appointment_type, zone=provider_zone(), now=now()
    )
    db.session.commit()  # expiries that fell due are written, as on every account read
    return page(
        "admin/history.html",
        422 if form.errors else 200,
        client=client,
        story=story,
        form=form,
    )


@bp.get("/clients/<id:client_id>/credits/<id:type_id>")
@provider_required
def credit_history(client_id: int, type_id: int) -> ResponseReturnValue:
    client = clients.client_of(db.session, current_provider(), client_id)
    return _history(client, type_id, AdjustmentForm(formdata=None))


@bp.post("/clients/<id:client_id>/credits/<id:type_id>")
@provider_required
def adjust_credits(client_id: int, type_id: int) -> ResponseReturnValue:
    provider = current_provider()
    client = clients.client_of(db.session, provider, client_id)
    appointment_type = appointment_types.appointment_type_of(db.session, provider, type_id)
    form = AdjustmentForm()
    body = form.checked(
        schemas.Adjustment, given(delta=number(form.delta.data), note=form.note.data)
    )
    if body is None:
        return _history(client, type_id, form)
    entry = form.attempt(
        lambda: credits.adjust_credits(
            db.session,
            provider_id=provider.id,
            client_id=client.id,
            type_id=appointment_type.id,
            delta=body.delta,
            note=body.note,
            actor=provider.name,
            now=now(),
        )
    )
    if entry is None:
        return _history(client, type_id, form)
    flash(f"Adjusted by {entry.delta:+d}. The balance is now {entry.balance_after}.")
    return redirect(url_for("admin.credit_history", client_id=client.id, type_id=type_id))

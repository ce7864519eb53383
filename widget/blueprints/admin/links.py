"""Share links: create one for some appointment types, copy its URL or embed snippet, revoke it."""

from datetime import datetime, time, timedelta

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from wtforms import Field, SelectField, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

from ...domain import appointment_types, clients, links
from ...extensions import db
from ...models import ShareLink
from ..api import schemas
from ..api.base import now
from ..api.links import share_link_json
from ..auth import provider_required
from .base import (
    DAY_FORMAT,
    Form,
    bp,
    current_provider,
    day_of,
    given,
    number,
    options,
    page,
    provider_zone,
)


def a_day_or_nothing(_form: Form, field: Field) -> None:
    if field.data and day_of(field.data) is None:
        raise ValidationError(DAY_FORMAT)


class LinkForm(Form):
    appointment_type_ids = SelectMultipleField(
        "Appointment types",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    label = StringField("Label (for you: where the link is used)")
    last_day = StringField(
        "Last day it works (optional)", widget=DateInput(), validators=[a_day_or_nothing]
    )
    max_uses = StringField("Bookings it may make (optional)", widget=NumberInput())
    client_id = SelectField("For one client only (optional)", choices=[], default="")

    def field_for(self, key: str) -> Field | None:
        return super().field_for({"expires_at": "last_day"}.get(key, key))

    def expires_at(self) -> datetime | None:
        """A link works through its last day on the provider's clock."""
        last = day_of(self.last_day.data)
        if last is None:
            return None
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=provider_zone())


def _link_form() -> LinkForm:
    provider = current_provider()
    form = LinkForm()
    form.appointment_type_ids.choices = options(
        (t.id, t.name)
        for t in appointment_types.appointment_types_of(db.session, provider)
        if t.active
    )
    form.client_id.choices = options(
        [
            (c.id, f"{c.name} ({c.email})")
            for c, _ in clients.clients_with_status(db.session, provider)
        ],
        blank="Anyone with the link (public)",
    )
    return form


def _described(found: list[ShareLink]) -> list[dict[str, object]]:
    uses = links.use_counts(db.session, [link.id for link in found], now())
    return [
        {**share_link_json(link, uses[link.id]), "link": link, "state": _state(link, uses[link.id])}
        for link in found
    ]


def _state(link: ShareLink, uses: int) -> str:
    if link.revoked_at is not None:
        return "Revoked"
    if link.expires_at is not None and link.expires_at <= now():
        return "Expired"
    if link.max_uses is not None and uses >= link.max_uses:
        return "Used up"
    return "Live"


def _links_page(form: LinkForm) -> ResponseReturnValue:
    provider = current_provider()
    return page(
        "admin/links.html",
        422 if form.errors else 200,
        form=form,
        shown=_described(links.links_of(db.session, provider))[::-1],
        new_client_only=provider.public_links_new_client_only,
    )


@bp.get("/links")
@provider_required
def link_list() -> ResponseReturnValue:
    return _links_page(_link_form())


@bp.post("/links")
@provider_required
def create_link() -> ResponseReturnValue:
    form = _link_form()
    chosen = [number(i) for i in form.appointment_type_ids.data or []]
    body = form.checked(
        schemas.ShareLinkFields,
        given(
            appointment_type_ids=chosen or None,
            label=(form.label.data or "").strip(),
            expires_at=form.expires_at(),
            max_uses=number(form.max_uses.data),
            client_id=number(form.client_id.data),
        ),
        {} if chosen else {"appointment_type_ids": "Choose at least one appointment type."},
    )
    if body is None:
        return _links_page(form)
    link = form.attempt(
        lambda: links.create_link(
            db.session,
            current_provider(),
            type_ids=body.appointment_type_ids,
            now=now(),
            label=body.label,
            expires_at=body.expires_at,
            max_uses=body.max_uses,
            client_id=body.client_id,
        )
    )
    if link is None:
        return _links_page(form)
    flash("Your link is ready: copy its address or its embed snippet below.")
    return redirect(url_for("admin.link_detail", link_id=link.id))


@bp.get("/links/<id:link_id>")
@provider_required
def link_detail(link_id: int) -> ResponseReturnValue:
    provider = current_provider()
    link = links.link_of(db.session, provider, link_id)
    [shown] = _described([link])
    personal = clients.client_of(db.session, provider, link.client_id) if link.client_id else None
    return page(
        "admin/link.html",
        shown=shown,
        link=link,
        personal=personal,
        offered=links.offered_types(provider, link),
    )


@bp.post("/links/<id:link_id>/revoke")
@provider_required
def revoke_link(link_id: int) -> ResponseReturnValue:
    link = links.revoke_link(db.session, current_provider(), link_id, now())
    db.session.commit()
    flash(f"Revoked '{link.label or 'the link'}'. It no longer opens, in emails or on websites.")
    return redirect(url_for("admin.link_detail", link_id=link.id))

"""Webhooks in the dashboard: add an endpoint, read its secret and its delivery log, remove it."""

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from ...domain import webhooks
from ...extensions import db
from ..api.base import now
from ..api.webhooks import WebhookFields
from ..auth import provider_required
from .base import Form, bp, current_provider, given, options, page

EVENT_LABELS = {
    "booking.created": "A booking or a hold is made",
    "booking.confirmed": "A booking is confirmed",
    "booking.rescheduled": "A booking is moved to another time",
    "booking.cancelled": "A booking is cancelled",
    "credits.changed": "A client's credits change",
}


class EndpointForm(Form):
    url = StringField("URL that receives the calls")
    events = SelectMultipleField(
        "Events",
        choices=options(EVENT_LABELS.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


def _webhooks_page(form: EndpointForm, status: int = 200) -> ResponseReturnValue:
    return page(
        "admin/webhooks.html",
        status,
        form=form,
        endpoints=webhooks.endpoints_of(db.session, current_provider()),
        labels=EVENT_LABELS,
    )


@bp.get("/webhooks")
@provider_required
def webhook_list() -> ResponseReturnValue:
    return _webhooks_page(EndpointForm())


@bp.post("/webhooks")
@provider_required
def create_webhook() -> ResponseReturnValue:
    form = EndpointForm()
    body = form.checked(
        WebhookFields,
        given(url=(form.url.data or "").strip(), events=form.events.data or []),
    )
    if body is None:
        return _webhooks_page(form, 422)
    endpoint = form.attempt(
        lambda: webhooks.create_endpoint(
            db.session, current_provider(), url=body.url, events=body.events, now=now()
        )
    )
    if endpoint is None:
        return _webhooks_page(form, 422)
    flash("Endpoint added. Check each call's signature with its secret, shown below.")
    return redirect(url_for("admin.webhook_log", endpoint_id=endpoint.id))


@bp.get("/webhooks/<id:endpoint_id>")
@provider_required
def webhook_log(endpoint_id: int) -> ResponseReturnValue:
    provider = current_provider()
    return page(
        "admin/webhook.html",
        endpoint=webhooks.endpoint_of(db.session, provider, endpoint_id),
        deliveries=webhooks.deliveries_of(db.session, provider, endpoint_id),
        labels=EVENT_LABELS,
    )


@bp.post("/webhooks/<id:endpoint_id>/delete")
@provider_required
def delete_webhook(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.remove_endpoint(db.session, current_provider(), endpoint_id)
    db.session.commit()
    flash(f"Removed {endpoint.url}: it hears nothing more.")
    return redirect(url_for("admin.webhook_list"))

"""The provider's settings, each explained in a sentence beside its field."""

from zoneinfo import available_timezones

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired
from wtforms.widgets import NumberInput

from ...domain import providers
from ..api import schemas
from ..auth import provider_required
from .base import Form, bp, current_provider, given, number, options, page

REQUIRED = DataRequired("Required.")  # spaces alone are nothing typed
ZONES = sorted(available_timezones() - {"localtime", "Factory"})


class SettingsForm(Form):
    timezone = SelectField("Time zone", choices=options((z, z) for z in ZONES))
    public_links_new_client_only = BooleanField("Share links offer new-client appointments only")
    public_booking_verification = RadioField(
        "Confirming public bookings",
        choices=options(
            [
                ("email", "By email: the slot is held until the person opens the link we send"),
                ("none", "At once: no email step"),
            ]
        ),
    )
    pending_hold_minutes = StringField(
        "Hold a slot for (minutes)", widget=NumberInput(), validators=[REQUIRED]
    )
    negative_credit_limit = StringField(
        "Sessions a client may book on credit", widget=NumberInput(), validators=[REQUIRED]
    )
    late_cancel_hours = StringField(
        "Late cancellation window (hours)", widget=NumberInput(), validators=[REQUIRED]
    )
    embed_allowed_origins = TextAreaField("Websites that may embed your booking page")


def _origins(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@bp.route("/settings", methods=["GET", "POST"])
@provider_required
def settings() -> ResponseReturnValue:
    provider = current_provider()
    if request.method == "GET":
        current = providers.settings_of(provider)
        current["embed_allowed_origins"] = "\n".join(current["embed_allowed_origins"])
        form = SettingsForm(formdata=None, data=current)
        return page("admin/settings.html", form=form)
    form = SettingsForm()
    body = form.checked(
        schemas.SettingsPatch,
        given(
            timezone=form.timezone.data,
            public_links_new_client_only=form.public_links_new_client_only.data,
            public_booking_verification=form.public_booking_verification.data,
            pending_hold_minutes=number(form.pending_hold_minutes.data),
            negative_credit_limit=number(form.negative_credit_limit.data),
            late_cancel_hours=number(form.late_cancel_hours.data),
            embed_allowed_origins=_origins(form.embed_allowed_origins.data),
        ),
    )
    saved = body and form.attempt(
        lambda: providers.update_settings(provider, schemas.changes_of(body))
    )
    if not saved:
        return page("admin/settings.html", 422, form=form)
    flash("Settings saved.")
    return redirect(url_for("admin.settings"))

"""The provider's dashboard, /admin/: everything the provider API does, in the browser."""

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from .auth import provider_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@provider_required
def home() -> ResponseReturnValue:
    return render_template("admin/home.html", provider=g.provider, brand=g.provider.name)

"""The outbox as a page, for development: read the emails and click their links.

Open only in debug mode or with WIDGET_DEV_MAIL (tests, `widget demo`): elsewhere these
paths answer 404, since every email, with its confirmation links, would be public.
"""

import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from ..extensions import db
from ..models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def only_in_development() -> None:
    if not (current_app.debug or current_app.config.get("WIDGET_DEV_MAIL")):
        abort(404)


SHOWN = 200
URL = re.compile(r"https?://[^\s<>\"']+")


def with_links(text: str) -> Markup:
    """The text escaped, with its http(s) addresses made clickable."""
    parts: list[Markup] = []
    shown = 0
    for match in URL.finditer(text):
        parts.append(escape(text[shown : match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(match.group()))
        shown = match.end()
    parts.append(escape(text[shown:]))
    return Markup("").join(parts)


def _newest() -> list[OutboxMessage]:
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    return list(db.session.scalars(query))


def _as_json(message: OutboxMessage) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": message.id,
        "recipient": message.recipient,
        "subject": message.subject,
        "text_body": message.text_body,
        "html_body": message.html_body,
        "has_ics": message.ics is not None,
        "sent_at": when(message.sent_at),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": when(message.next_attempt_at),
        "given_up_at": when(message.given_up_at),
        "created_at": when(message.created_at),
    }


@bp.get("/mail")
def mail_page() -> ResponseReturnValue:
    messages = [(message, with_links(message.text_body)) for message in _newest()]
    return render_template("dev/mail.html", messages=messages)


@bp.get("/mail.json")
def mail_json() -> ResponseReturnValue:
    return jsonify({"messages": [_as_json(message) for message in _newest()]})

"""Signed tokens: one salt per purpose, a list of keys so keys can rotate.

A token signed for one purpose never passes for another (a confirmation link is
not a share link). Keys come oldest first, newest last: the newest signs, all verify.
"""

from collections.abc import Sequence
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from .errors import Refused

SHARE_LINK = "widget.share-link"
CONFIRM_BOOKING = "widget.confirm-booking"
BOOKING_FORM = "widget.booking-form"
MANAGE_BOOKING = "widget.manage-booking"
MAGIC_LOGIN = "widget.magic-login"
PASSWORD_SET = "widget.password-set"


def sign(value: Any, keys: Sequence[str], purpose: str) -> str:
    return str(URLSafeSerializer(list(keys), salt=purpose).dumps(value))


def unsign(token: str, keys: Sequence[str], purpose: str) -> Any:
    """The signed value, or `link_invalid` for a bad or foreign signature."""
    try:
        return URLSafeSerializer(list(keys), salt=purpose).loads(token)
    except BadSignature:
        raise Refused("link_invalid", "This link is not valid.") from None


def sign_timed(value: Any, keys: Sequence[str], purpose: str) -> str:
    return str(URLSafeTimedSerializer(list(keys), salt=purpose).dumps(value))


def unsign_timed(token: str, keys: Sequence[str], purpose: str, max_age: int) -> Any:
    """The value of a token signed at most `max_age` seconds ago, else None."""
    try:
        return unsign_fresh(token, keys, purpose, max_age)
    except Refused:
        return None


def unsign_fresh(token: str, keys: Sequence[str], purpose: str, max_age: int) -> Any:
    """The value of a token signed at most `max_age` seconds ago; `link_expired` if older,
    `link_invalid` if not ours."""
    try:
        return URLSafeTimedSerializer(list(keys), salt=purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Refused("link_expired", "This link has expired; ask for a new one.") from None
    except BadSignature:
        raise Refused("link_invalid", "This link is not valid.") from None

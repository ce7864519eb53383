"""IANA time zones, checked once at the edge of the domain."""

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ValidationFailed


@lru_cache(maxsize=512)
def _load(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_named(name: str, field: str = "timezone") -> ZoneInfo:
    """The zone called `name`, or a validation_error on `field` that says why not."""
    if not isinstance(name, str) or not name or name.lower() == "localtime":
        raise ValidationFailed({field: "must be an IANA time zone such as America/New_York"})
    try:
        return _load(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(
            {field: f"'{name}' is not an IANA time zone (for example America/New_York)"}
        ) from None

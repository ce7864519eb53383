"""IANA time zones, checked once at the edge of the domain, and wall-clock readings."""

from datetime import UTC, datetime
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


def is_repeated(moment: datetime) -> bool:
    """Whether `moment`'s wall-clock reading happens twice in its zone: the hour that a
    fall-back night repeats (the first reading has the larger UTC offset)."""
    first, second = moment.replace(fold=0).utcoffset(), moment.replace(fold=1).utcoffset()
    return first is not None and second is not None and first > second


def is_skipped(moment: datetime) -> bool:
    """Whether `moment`'s wall-clock reading never happens in its zone: a time inside the
    hour a spring-forward night skips."""
    back = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) != moment.replace(tzinfo=None)


def clock_time(moment: datetime) -> str:
    """'09:00' on `moment`'s wall clock; in a repeated hour with the zone's abbreviation
    ('01:30 EDT', '01:30 EST'), so the two readings of a fall-back night differ."""
    return f"{moment:%H:%M %Z}" if is_repeated(moment) else f"{moment:%H:%M}"

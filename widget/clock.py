"""The app's idea of now: the wall clock, or WIDGET_CLOCK when a test travels in time."""

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from .models import utcnow


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.config.get("WIDGET_CLOCK") or utcnow
    return clock()

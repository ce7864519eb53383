"""Typed errors that carry the stable reason codes of API.md; one handler maps them to HTTP."""

from typing import Any


class DomainError(Exception):
    code = "invalid_state"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details if details is not None else {}


class NotFound(DomainError):
    """No such object for this caller; `field` names the body field that referred to it."""

    code = "not_found"

    def __init__(self, message: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(message, details={field: detail} if field else None)


class ValidationFailed(DomainError):
    """Bad fields; details maps each field to a sentence about it."""

    code = "validation_error"

    def __init__(
        self, details: dict[str, str], message: str = "Some fields are not valid."
    ) -> None:
        super().__init__(message, details=details)


class Conflict(DomainError):
    code = "conflict"


class InvalidState(DomainError):
    code = "invalid_state"


class Refused(DomainError):
    """A booking attempt the policy or the calendar turned down, with its reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)

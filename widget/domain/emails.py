"""Email addresses as identities: checked once, then compared trimmed and lower case."""

from email_validator import EmailNotValidError, validate_email

from .errors import ValidationFailed


def normalise_email(email: str) -> str:
    return email.strip().lower()


def checked_email(email: str, field: str = "email") -> str:
    """The normalised address, or a validation_error on `field` in plain words."""
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationFailed({field: f"is not a valid email address: {exc}"}) from None
    return email

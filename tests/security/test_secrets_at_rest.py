"""What a leaked database gives away: no API key and no password in clear."""

from typing import Any

from sqlalchemy import select

from widget.extensions import db
from widget.models import ApiKey, Provider


def test_api_keys_and_passwords_are_stored_only_as_hashes(app: Any, client: Any) -> None:
    """Through the CLI, which hashes the password as the dashboard checks it."""
    result = app.test_cli_runner().invoke(
        args=[
            "create-provider",
            "--name",
            "Dr. Hash",
            "--email",
            "hash@example.com",
            "--timezone",
            "America/New_York",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    key = result.output.split("api_key: ")[1].split()[0]
    db.session.remove()
    stored = db.session.scalars(select(ApiKey)).all()
    assert stored and all(key not in (k.key_hash, k.prefix) for k in stored)
    assert all(len(k.key_hash) == 64 for k in stored)
    account = db.session.scalars(select(Provider)).one()
    assert account.password_hash and "a long enough password" not in account.password_hash
    assert account.password_hash.startswith(("scrypt:", "pbkdf2:"))
    answer = client.get("/api/v1/settings", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200

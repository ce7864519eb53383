"""Idempotency keys: a retried POST replays its first answer instead of acting twice.

The key row is claimed inside the request's own transaction, so the answer is stored
exactly when its work commits; a concurrent request with the same key waits on
that row and is told so. Keys live for 24 hours.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import IdempotencyKey
from .errors import Refused

LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of what the request asks for: the same key with another request is a conflict."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def _conflict() -> Refused:
    return Refused(
        "idempotency_conflict",
        "This Idempotency-Key was used for another request, or that request is still running.",
    )


def recall(
    session: Session, *, scope: str, key: str, request_hash: str, now: datetime
) -> Answer | None:
    stored = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at > now - LIFETIME,
        )
    )
    if stored is None:
        return None
    if stored.request_hash != request_hash or stored.status_code == 0:
        raise _conflict()
    return Answer(stored.status_code, stored.response_body)


def claim(
    session: Session, *, scope: str, key: str, request_hash: str, now: datetime
) -> IdempotencyKey:
    """Take the key for this transaction; a concurrent holder makes this a conflict."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at <= now - LIFETIME,
        )
    )
    row = IdempotencyKey(
        scope=scope,
        key=key,
        request_hash=request_hash,
        status_code=0,
        response_body={},
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise _conflict() from None
    return row


def claim_answered(
    session: Session, *, scope: str, key: str, request_hash: str, now: datetime, answer: Answer
) -> None:
    """Store a refusal, whose own transaction was rolled back, as the key's answer."""
    settle(claim(session, scope=scope, key=key, request_hash=request_hash, now=now), answer)


def settle(row: IdempotencyKey, answer: Answer) -> None:
    row.status_code = answer.status
    row.response_body = answer.body


def prune(session: Session, now: datetime) -> int:
    """Forget keys older than 24 hours; returns how many."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - LIFETIME)
    )
    return int(getattr(result, "rowcount", 0) or 0)

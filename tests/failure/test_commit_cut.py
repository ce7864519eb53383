"""The database connection cut while a booking's COMMIT is in flight: all or nothing, once.

The app (in process) reaches PostgreSQL through the TCP proxy of test_database_outage.py,
here taught to read what the client sends (the PostgreSQL frontend protocol, kept in
clear text: the proxy answers an SSL or GSS encryption request with "N" itself). Armed,
it waits for the COMMIT of the transaction that inserts a booking and cuts every
connection right there, in one of two ways:

- `lost_before_the_server`: the COMMIT is never forwarded; the server rolls back.
- `answer_lost`: the COMMIT is forwarded, the server's answer to it is withheld, and the
  connection drops once that answer is in: the booking committed, the app cannot know.

Either way the API answers a clean 503 `service_unavailable`; once the proxy passes
traffic again the database holds the booking with exactly one ledger spend, or neither,
and retrying with the same `Idempotency-Key` ends with exactly one booking and one spend.
"""

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import POSTGRES_URL
from tests.failure.test_database_outage import (
    Proxy,
    _assert_unavailable,
    _practice,
    proxied_app,
    proxy,
)
from widget.extensions import db
from widget.models import Booking, CreditBalance, CreditEntry, EntryKind

__all__ = ["proxied_app", "proxy"]  # the app behind this module's kind of proxy

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs WIDGET_TEST_POSTGRES_URL")

# Untyped requests a client may send before its startup message (protocol 3).
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


@dataclass
class CommitCut:
    """A one-shot trap: cut the connections at the COMMIT of a booking's transaction."""

    commit_reaches_server: bool
    fired: threading.Event = field(default_factory=threading.Event)
    message: bytes = b""  # the COMMIT message, as the client sent it
    transaction: list[str] = field(default_factory=list)  # the SQL that transaction ran
    server_answer: list[tuple[bytes, bytes]] = field(default_factory=list)  # withheld


def _frame(kind: bytes, payload: bytes) -> bytes:
    return kind + (4 + len(payload)).to_bytes(4, "big") + payload


def _messages(buffer: bytearray) -> Iterator[tuple[bytes, bytes]]:
    """Take the complete typed messages (kind, payload) off the front of a buffer."""
    while len(buffer) >= 5 and len(buffer) >= 1 + int.from_bytes(buffer[1:5], "big"):
        end = 1 + int.from_bytes(buffer[1:5], "big")
        kind, payload = bytes(buffer[:1]), bytes(buffer[5:end])
        del buffer[:end]
        yield kind, payload


def _statement(kind: bytes, payload: bytes, prepared: dict[bytes, str]) -> str | None:
    """The SQL a frontend message runs: a simple Query, or the Bind of a parsed statement."""
    if kind == b"Q":
        return payload.split(b"\0", 1)[0].decode(errors="replace")
    if kind == b"P":
        name, query = payload.split(b"\0", 2)[:2]
        prepared[name] = query.decode(errors="replace")
    if kind == b"B":
        return prepared.get(payload.split(b"\0", 2)[1], "?")
    return None


class WireProxy(Proxy):
    """The outage proxy, reading the PostgreSQL protocol so it can cut at a COMMIT."""

    def __init__(self, host: str, port: int) -> None:
        self.trap: CommitCut | None = None
        self.withheld: dict[socket.socket, threading.Event] = {}
        super().__init__(host, port)

    def cut_at_commit(self, *, commit_reaches_server: bool) -> CommitCut:
        """Arm a cut at the COMMIT of the next transaction that inserts a booking."""
        self.trap = CommitCut(commit_reaches_server)
        return self.trap

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:  # type: ignore[override]
        from_client = source.getsockname()[1] == self.port  # accepted on our listener
        client = source if from_client else sink
        with self.lock:
            withhold = self.withheld.setdefault(client, threading.Event())
        try:
            if from_client:
                self._from_client(source, sink, withhold)
            else:
                self._from_server(source, sink, withhold)
        except OSError:
            pass
        finally:
            with self.lock:
                self.withheld.pop(client, None)
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def _fire(self, trap: CommitCut) -> None:
        trap.fired.set()  # first: the app can only see the cut once it is made
        self.cut()

    def _from_client(
        self, client: socket.socket, server: socket.socket, withhold: threading.Event
    ) -> None:
        """Relay the client's messages, following each transaction's SQL up to its end."""
        buffer = bytearray()
        started = False
        prepared: dict[bytes, str] = {}
        transaction: list[str] = []
        while data := client.recv(65536):
            buffer += data
            out = bytearray()
            while not started and len(buffer) >= 8:
                length = int.from_bytes(buffer[:4], "big")
                if len(buffer) < length:
                    break
                request, code = bytes(buffer[:length]), int.from_bytes(buffer[4:8], "big")
                del buffer[:length]
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    client.sendall(b"N")  # stay in clear text, so the proxy can read it
                    continue
                out += request  # the startup message (or a cancel request)
                started = True
            for kind, payload in _messages(buffer) if started else ():
                sql = _statement(kind, payload, prepared)
                verb = (sql or "").strip().rstrip(";").strip().upper()
                trap = self.trap
                if (
                    verb == "COMMIT"
                    and trap is not None
                    and not trap.fired.is_set()
                    and any("INSERT INTO bookings " in s for s in transaction)
                ):
                    trap.message, trap.transaction = _frame(kind, payload), transaction
                    if not trap.commit_reaches_server:
                        server.sendall(out)  # what came before the COMMIT, not the COMMIT
                        self._fire(trap)
                        return
                    withhold.set()
                    server.sendall(out + _frame(kind, payload) + buffer)
                    if not trap.fired.wait(5):  # no answer from the server: cut anyway
                        self._fire(trap)
                    return
                if sql is not None:
                    transaction = [] if verb == "BEGIN" else [*transaction, sql]
                if verb in ("COMMIT", "ROLLBACK"):
                    transaction = []
                out += _frame(kind, payload)
            if out:
                server.sendall(out)

    def _from_server(
        self, server: socket.socket, client: socket.socket, withhold: threading.Event
    ) -> None:
        """Relay the server's answers; the answer to a trapped COMMIT is kept, then all cut."""
        kept = bytearray()
        while data := server.recv(65536):
            if not withhold.is_set():
                client.sendall(data)
                continue
            kept += data
            answer = list(_messages(kept))
            if answer and answer[-1][0] == b"Z":  # ReadyForQuery: the whole answer is in
                trap = self.trap
                assert trap is not None
                trap.server_answer = answer
                self._fire(trap)
                return
            kept[:0] = b"".join(_frame(kind, payload) for kind, payload in answer)


@pytest.fixture
def proxy_kind() -> type[Proxy]:
    """test_database_outage's `proxy` (behind `proxied_app`) starts a WireProxy here."""
    return WireProxy


def _outcome(body: dict[str, Any]) -> tuple[list[int], int]:
    """The client's bookings and balance, checked to be all or nothing: every booking has
    exactly one `booking` ledger entry of -1, no such entry lacks its booking, and the
    balance moved by exactly one per booking from the package's 2 credits."""
    db.session.remove()
    booked = db.session.scalars(
        select(Booking.id).where(Booking.client_id == body["client_id"]).order_by(Booking.id)
    ).all()
    spends = db.session.execute(
        select(CreditEntry.booking_id, CreditEntry.delta).where(
            CreditEntry.client_id == body["client_id"],
            CreditEntry.appointment_type_id == body["appointment_type_id"],
            CreditEntry.kind == EntryKind.booking,
        )
    ).all()
    balance = db.session.scalar(
        select(CreditBalance.balance).where(
            CreditBalance.client_id == body["client_id"],
            CreditBalance.appointment_type_id == body["appointment_type_id"],
        )
    )
    db.session.remove()
    assert sorted((b, d) for b, d in spends) == [(b, -1) for b in booked]
    assert balance == 2 - len(booked)
    return list(booked), balance


@pytest.mark.parametrize("commit_reaches_server", [False, True], ids=["lost", "answer_lost"])
def test_a_connection_cut_at_the_commit_is_all_or_nothing_and_a_retry_books_once(
    proxied_app: Flask, proxy: WireProxy, commit_reaches_server: bool
) -> None:
    auth, body = _practice(proxied_app)
    http = proxied_app.test_client()
    retry = {**auth, "Idempotency-Key": f"commit-cut-{commit_reaches_server}"}
    assert _outcome(body) == ([], 2)

    trap = proxy.cut_at_commit(commit_reaches_server=commit_reaches_server)
    _assert_unavailable(http.post("/api/v1/bookings", json=body, headers=retry))

    # The proxy cut at this booking's COMMIT (a simple Query), after its inserts went out
    # (on PostgreSQL the booking's and its ledger entry's in one statement).
    assert trap.fired.is_set(), "the proxy never saw the booking transaction's COMMIT"
    assert trap.message == b"Q" + (4 + 7).to_bytes(4, "big") + b"COMMIT\0"
    for table in ("bookings", "credit_entries", "idempotency_keys"):
        assert any(f"INSERT INTO {table} " in s for s in trap.transaction), table
    if commit_reaches_server:  # the server did commit: its answer was what got lost
        assert [kind for kind, _ in trap.server_answer] == [b"C", b"Z"]
        assert trap.server_answer[0][1] == b"COMMIT\0"
    else:
        assert trap.server_answer == []

    proxy.restore()
    booked, balance = _outcome(body)
    assert len(booked) == (1 if commit_reaches_server else 0)
    assert balance == (1 if commit_reaches_server else 2)

    first = http.post("/api/v1/bookings", json=body, headers=retry)
    assert first.status_code == 201, first.get_json()
    if booked:  # the committed booking's stored answer is replayed, not booked again
        assert first.get_json()["id"] == booked[0]
    again = http.post("/api/v1/bookings", json=body, headers=retry)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert _outcome(body) == ([first.get_json()["id"]], 1)

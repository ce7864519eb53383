"""The standard workload of ../shared/BENCH.md, and fresh copies of it for every measured run.

`build_workload(url)` fills an empty database; `Databases` builds it once per engine
(a SQLite file, or a PostgreSQL database used as a template) and hands out fresh
copies: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE ...` on PostgreSQL.
"""

import logging
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text
from sqlalchemy.engine import make_url

from widget import create_app
from widget.domain import links, packages, providers, schedule
from widget.domain.booking import block_of
from widget.extensions import db
from widget.models import (
    AppointmentType,
    Audience,
    Booking,
    BookingStatus,
    Channel,
    Client,
    Verification,
)

ZONE = ZoneInfo("America/New_York")
SECRET_KEY = "bench-key-0123456789abcdef"
CLIENTS = 500
CREDITS_EACH = 1000
BOOKED = 1000
BOOKED_DAYS = 120
SEED = 20261124
BARE_ROWS = Table(
    "bench_bare_rows",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("note", String(40)),
)
# The runner's own app instances log every email they queue; the figures are what matters.
logging.getLogger("widget").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Workload:
    api_key: str
    type_id: int
    token: str
    client_ids: list[int]
    client_emails: list[str]


def bench_app(url: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WIDGET_DEVELOPMENT_KEY": False,
            "SECRET_KEY": SECRET_KEY,
            "SECRET_KEY_FALLBACKS": [],
            "RATELIMIT_ENABLED": False,
        }
    )


def build_workload(url: str) -> Workload:
    """Migrate an empty database and fill it with the standard workload."""
    app = bench_app(url)
    now = datetime.now(UTC)
    with app.app_context():
        flask_migrate.upgrade()
        created = providers.create_provider(
            db.session, name="Bench Clinic", email="bench@example.com", timezone=ZONE.key
        )
        provider = created.provider
        provider.public_links_new_client_only = False
        provider.public_booking_verification = Verification.none
        schedule.replace_availability(
            db.session,
            provider,
            weekly={
                d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
            },
            exceptions=[],
        )
        check_in = AppointmentType(
            provider_id=provider.id,
            name="Check-in",
            duration_minutes=30,
            audience=Audience.everyone,
            requires_credit=True,
            slot_step_minutes=30,
            min_notice_minutes=0,
            max_days_ahead=180,
        )
        db.session.add(check_in)
        db.session.flush()
        clients = [
            Client(provider_id=provider.id, email=f"c{i}@example.com", name=f"Client {i}")
            for i in range(CLIENTS)
        ]
        db.session.add_all(clients)
        db.session.flush()
        # Every client buys the same package once, through the domain: the ledger rows
        # (client package, lot, grant entry, balance) are exactly what a purchase writes.
        package = packages.create_package(
            db.session,
            provider,
            name=f"{CREDITS_EACH} check-ins",
            price_cents=0,
            items=[packages.ItemSpec(appointment_type_id=check_in.id, quantity=CREDITS_EACH)],
        )
        for client in clients:
            packages.buy_package(
                db.session, provider, client_id=client.id, package_id=package.id, now=now
            )
        link = links.create_link(db.session, provider, type_ids=[check_in.id], now=now)
        tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
        candidates = [
            datetime.combine(tomorrow + timedelta(days=d), datetime.min.time(), tzinfo=ZONE)
            + timedelta(hours=9, minutes=30 * s)
            for d in range(BOOKED_DAYS)
            if (tomorrow + timedelta(days=d)).weekday() < 5
            for s in range(16)
        ]
        rng = random.Random(SEED)
        for n, start in enumerate(sorted(rng.sample(candidates, BOOKED))):
            block_start, block_end = block_of(check_in, start)
            db.session.add(
                Booking(
                    provider_id=provider.id,
                    client_id=clients[n % CLIENTS].id,
                    appointment_type_id=check_in.id,
                    channel=Channel.provider,
                    status=BookingStatus.confirmed,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    block_start=block_start,
                    block_end=block_end,
                    created_at=now,
                )
            )
        db.session.commit()
        # The bare INSERT ceiling writes here: same database, same engine settings.
        BARE_ROWS.create(db.session.connection())
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # A live database has statistics (autovacuum analyzes after bulk changes); without
            # them the planner reads every booking of the provider through the GiST index.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
        workload = Workload(
            api_key=created.api_key,
            type_id=check_in.id,
            token=links.token_for(link, [SECRET_KEY]),
            client_ids=[c.id for c in clients],
            client_emails=[c.email for c in clients],
        )
        db.session.remove()
        db.engine.dispose()
    return workload


class Databases:
    """One engine's built workload, and fresh copies of it: use as a context manager."""

    def __init__(self, engine: str, server_url: str | None = None) -> None:
        self.engine = engine
        self.server_url = server_url
        self._tag = f"widget_bench_{int(time.time())}"
        self._made: list[str] = []
        self._folder = Path(tempfile.mkdtemp(prefix="widget-bench-"))
        self.template = self._new_url("template")
        self.build_seconds = 0.0
        self.workload: Workload | None = None

    def _new_url(self, suffix: str) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self._folder / (suffix + '.db')}"
        assert self.server_url is not None
        name = f"{self._tag}_{suffix}"
        self._made.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self):  # type: ignore[no-untyped-def]
        return create_engine(self.server_url, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> "Databases":
        began = time.perf_counter()
        if self.engine == "postgresql":
            admin = self._admin()
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._made[0]}"'))
            admin.dispose()
        self.workload = build_workload(self.template)
        self.build_seconds = time.perf_counter() - began
        self._copies = 0
        return self

    def fresh_copy(self) -> str:
        """A database of its own for one measured run, identical to the built workload."""
        self._copies += 1
        url = self._new_url(f"run{self._copies}")
        if self.engine == "sqlite":
            source = Path(make_url(self.template).database or "")
            target = Path(make_url(url).database or "")
            shutil.copyfile(source, target)
            return url
        admin = self._admin()
        with admin.connect() as connection:
            connection.execute(
                text(f'CREATE DATABASE "{self._made[-1]}" TEMPLATE "{self._made[0]}"')
            )
        admin.dispose()
        return url

    def __exit__(self, *_exc: object) -> None:
        if self.engine == "postgresql":
            admin = self._admin()
            with admin.connect() as connection:
                for name in reversed(self._made):
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(self._folder, ignore_errors=True)

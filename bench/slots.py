"""Free-slot benchmark on the standard workload (../shared/BENCH.md, items 1 and 2).

Builds the workload on SQLite and PostgreSQL, times the 30-day free-slot computation
in process, then serves Widget and a bare Flask endpoint with gunicorn (2 workers) on
127.0.0.1 and times the 30-day and one-day requests against it. Prints a table and
writes bench/results/slots.json.  usage: python bench/slots.py [--postgres URL]
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from widget import create_app
from widget.domain import providers, schedule
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

HERE = Path(__file__).parent
ZONE = ZoneInfo("America/New_York")
REPEATS = 200
SECONDS_PER_LOOP = 20


def build_workload(url: str) -> tuple[str, int]:
    """The standard workload; returns the provider's API key and the type id."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WIDGET_DEVELOPMENT_KEY": False})
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
            max_days_ahead=180,
        )
        db.session.add(check_in)
        db.session.flush()
        clients = [
            Client(provider_id=provider.id, email=f"c{i}@example.com", name=f"Client {i}")
            for i in range(500)
        ]
        db.session.add_all(clients)
        db.session.flush()
        tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
        candidates = [
            datetime.combine(tomorrow + timedelta(days=d), datetime.min.time(), tzinfo=ZONE)
            + timedelta(hours=9, minutes=30 * s)
            for d in range(120)
            if (tomorrow + timedelta(days=d)).weekday() < 5
            for s in range(16)
        ]
        rng = random.Random(20261124)
        for n, start in enumerate(sorted(rng.sample(candidates, 1000))):
            block_start, block_end = block_of(check_in, start)
            db.session.add(
                Booking(
                    provider_id=provider.id,
                    client_id=clients[n % 500].id,
                    appointment_type_id=check_in.id,
                    channel=Channel.provider,
                    status=BookingStatus.confirmed,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    block_start=block_start,
                    block_end=block_end,
                )
            )
        db.session.commit()
        key, type_id = created.api_key, check_in.id
        db.engine.dispose()
    return key, type_id


def in_process_ms(url: str, type_id: int) -> float:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WIDGET_DEVELOPMENT_KEY": False})
    with app.app_context():
        check_in = db.session.get(AppointmentType, type_id)
        provider = db.session.get(providers.Provider, check_in.provider_id)
        first = datetime.now(ZONE).date()
        timings = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            schedule.open_slots(
                db.session,
                provider,
                check_in,
                first_day=first,
                last_day=first + timedelta(days=29),
                viewer_zone=ZONE,
                now=datetime.now(UTC),
            )
            timings.append((time.perf_counter() - began) * 1000)
            db.session.rollback()
        db.engine.dispose()
    return statistics.median(timings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app_spec: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", app_spec],
        env={**os.environ, **env},
        cwd=HERE,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, port


def median_request_ms(port: int, path: str, headers: dict[str, str]) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    timings = []
    deadline = time.monotonic() + SECONDS_PER_LOOP
    for _ in range(REPEATS):
        began = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        timings.append((time.perf_counter() - began) * 1000)
        if time.monotonic() > deadline:
            break
    connection.close()
    return statistics.median(timings)


def run_engine(name: str, url: str) -> dict[str, float]:
    key, type_id = build_workload(url)
    env = {
        "WIDGET_DATABASE_URL": url,
        "WIDGET_SECRET_KEYS": "bench-key-0123456789",
        "WIDGET_RATELIMIT_ENABLED": "0",
    }
    widget, widget_port = serve("widget:create_app()", env)
    bare, bare_port = serve("bare:app", env)
    try:
        first = datetime.now(ZONE).date()
        auth = {"Authorization": f"Bearer {key}"}
        last = first + timedelta(days=29)
        month = f"/api/v1/slots?appointment_type_id={type_id}&start={first}&end={last}"
        day = first + timedelta(days=3)
        one_day = f"/api/v1/slots?appointment_type_id={type_id}&start={day}&end={day}"
        result = {
            "in_process_30_days_ms": in_process_ms(url, type_id),
            "http_30_days_ms": median_request_ms(widget_port, month, auth),
            "http_one_day_ms": median_request_ms(widget_port, one_day, auth),
            "bare_flask_read_ms": median_request_ms(bare_port, "/const", {}),
        }
    finally:
        for process in (widget, bare):
            process.terminate()
            process.wait()
    result["http_30_days_x_bare"] = result["http_30_days_ms"] / result["bare_flask_read_ms"]
    result["one_day_requests_per_second"] = 1000 / result["http_one_day_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("WIDGET_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_engine("sqlite", f"sqlite:///{tmp}/bench.db")
    if args.postgres:
        name = f"widget_bench_{os.getpid()}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        try:
            results["postgresql"] = run_engine("postgresql", url)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "slots.json").write_text(json.dumps(results, indent=2))
    metrics = list(next(iter(results.values())))
    print(f"{'metric':34}" + "".join(f"{engine:>14}" for engine in results))
    for metric in metrics:
        print(f"{metric:34}" + "".join(f"{results[e][metric]:14.2f}" for e in results))


if __name__ == "__main__":
    main()

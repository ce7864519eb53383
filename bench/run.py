"""The benchmark suite: every item of ../shared/BENCH.md on SQLite and PostgreSQL.

usage: python bench/run.py [--postgres URL] [--quick]

Builds the standard workload once per engine, then measures each run on a fresh copy
of it (a copied SQLite file; CREATE DATABASE ... TEMPLATE on PostgreSQL), with Widget
and the bare Flask ceilings (bare.py) both served by gunicorn, 2 workers, 127.0.0.1.
Prints one table and writes bench/results/bench.json. See bench/README.md.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the checkout this file is in, also for gunicorn's workers

from loadgen import Call, Load, Measured, Server, alternate, get_json, measure, warm_up  # noqa: E402
from sqlalchemy import event  # noqa: E402
from workload import SECRET_KEY, ZONE, Databases, Workload, bench_app  # noqa: E402

from widget import outbox  # noqa: E402
from widget.domain import schedule  # noqa: E402
from widget.extensions import db  # noqa: E402
from widget.models import AppointmentType, Provider  # noqa: E402

CONCURRENT = 8
HORIZON_DAYS = 180


class Budget:
    """Request counts and time limits of every loop; --quick divides them."""

    def __init__(self, scale: float) -> None:
        self.reads = max(30, int(150 * scale))
        self.fast_reads = max(60, int(300 * scale))
        self.writes = max(30, int(300 * scale))
        self.concurrent_writes = max(48, int(480 * scale))
        self.in_process = max(20, int(100 * scale))
        self.seconds = 6.0 * max(scale, 0.3)


def server_env(url: str) -> dict[str, str]:
    return {
        "WIDGET_DATABASE_URL": url,
        "WIDGET_SECRET_KEYS": SECRET_KEY,
        "WIDGET_RATELIMIT_ENABLED": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def first_weekday(after: date) -> date:
    day = after
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class Paths:
    """The requests of the workload, in the provider's zone."""

    def __init__(self, w: Workload) -> None:
        self.w = w
        self.today = datetime.now(ZONE).date()
        self.auth = {"Authorization": f"Bearer {w.api_key}"}

    def slots(self, first: date, last: date, *, public: bool = False) -> Call:
        query = f"appointment_type_id={self.w.type_id}&start={first}&end={last}"
        if public:
            return Call("GET", f"/api/v1/links/{self.w.token}/slots?{query}")
        return Call("GET", f"/api/v1/slots?{query}", headers=self.auth)

    def month(self, *, public: bool = False) -> Call:
        return self.slots(self.today, self.today + timedelta(days=29), public=public)

    def one_day(self) -> Call:
        day = first_weekday(self.today + timedelta(days=3))
        return self.slots(day, day)

    def page(self) -> Call:
        return Call("GET", f"/l/{self.w.token}?type={self.w.type_id}")

    def link_info(self) -> Call:
        return Call("GET", f"/api/v1/links/{self.w.token}")

    def free_starts(self, port: int) -> list[str]:
        """Every free start of the horizon, read before the timed part."""
        last = self.today + timedelta(days=HORIZON_DAYS - 1)
        answer = get_json(port, self.slots(self.today + timedelta(days=1), last))
        return [slot["start"] for slot in answer["slots"]]

    def booking(self, start: str, n: int, *, public: bool) -> Call:
        if public:
            body = {
                "appointment_type_id": self.w.type_id,
                "start": start,
                "name": f"Client {n % len(self.w.client_emails)}",
                "email": self.w.client_emails[n % len(self.w.client_emails)],
            }
            return Call("POST", f"/api/v1/links/{self.w.token}/bookings", body)
        body = {
            "client_id": self.w.client_ids[n % len(self.w.client_ids)],
            "appointment_type_id": self.w.type_id,
            "start": start,
        }
        return Call("POST", "/api/v1/bookings", body, self.auth)


def in_process_ms(url: str, w: Workload, budget: Budget) -> float:
    """`schedule.open_slots` for 30 days, its queries included."""
    app = bench_app(url)
    with app.app_context():
        check_in = db.session.get(AppointmentType, w.type_id)
        provider = db.session.get(Provider, check_in.provider_id)
        first = datetime.now(ZONE).date()
        timings = []
        deadline = time.monotonic() + budget.seconds
        for _ in range(budget.in_process):
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
            # Ends the transaction, as a request would, without expiring the objects (a
            # rollback would, and their reloads are not the function's).
            db.session.commit()
            if time.monotonic() > deadline:
                break
        db.session.remove()
        db.engine.dispose()
    return statistics.median(timings)


def statements_per_request(url: str, w: Workload) -> dict[str, int]:
    """SQL statements each request sends (BEGIN included), through the Flask test client;
    bookings count the outbox delivery the courier makes after their response too (for
    one row alone: on a busy worker, rows share a delivery)."""
    app = bench_app(url)
    paths = Paths(w)
    count = [0]
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        count[0] += 1

    http = app.test_client()

    def run(call: Call, expect: int) -> int:
        count[0] = 0
        response = http.open(call.path, method=call.method, json=call.body, headers=call.headers)
        assert response.status_code == expect, (call.path, response.status_code, response.text)
        response.close()
        outbox.courier.settle()  # what the courier sends for it, alone in its batch here
        return count[0]

    starts = [
        s["start"]
        for s in http.get(paths.month().path, headers=paths.auth).get_json()["slots"][-2:]
    ]
    result = {
        "slots_30_days_api": run(paths.month(), 200),
        "slots_30_days_link": run(paths.month(public=True), 200),
        "slots_one_day_api": run(paths.one_day(), 200),
        "booking_page_week": run(paths.page(), 200),
        "booking_api": run(paths.booking(starts[0], 0, public=False), 201),
        "booking_link": run(paths.booking(starts[1], 1, public=True), 201),
    }
    with app.app_context():
        db.engine.dispose()
    return result


STARTED = time.perf_counter()


def note(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)


def checked(name: str, m: Measured) -> Measured:
    if m.failures:
        raise RuntimeError(f"{name}: {m.failures} of {m.count} requests failed: {m.first_failure}")
    return m


def run_engine(engine: str, server_url: str | None, budget: Budget, logs: Path) -> dict[str, Any]:
    r: dict[str, Any] = {}
    with Databases(engine, server_url) as dbs:
        assert dbs.workload is not None
        w = dbs.workload
        paths = Paths(w)
        r["build_seconds"] = dbs.build_seconds
        note(f"{engine}: workload built in {dbs.build_seconds:.1f} s")
        r["sql_statements"] = statements_per_request(dbs.fresh_copy(), w)
        reads_url = dbs.fresh_copy()
        r["slots_30_days_in_process_ms"] = in_process_ms(reads_url, w, budget)

        # The ceilings: bare Flask on a fresh copy of its own, up for the whole engine,
        # each Widget figure measured in turns with its ceiling, round by round.
        const = Call("GET", "/const")
        insert = Call("POST", "/insert", {"note": "bench"})
        with Server("bare:app", server_env(dbs.fresh_copy()), logs / f"{engine}-bare.log") as bare:
            warm_up(bare.port, const)
            warm_up(bare.port, insert)

            # Reads: one fresh copy.
            with Server(
                "widget:create_app()", server_env(reads_url), logs / f"{engine}.log"
            ) as app:
                warm_up(app.port, paths.month())

                def read(call: Call, count: int) -> tuple[Measured, Measured]:
                    warm_up(app.port, call, 10)
                    ceiling, m = alternate(
                        [
                            Load(bare.port, [const] * count, 200),
                            Load(app.port, [call] * count, 200),
                        ],
                        seconds=budget.seconds,
                    )
                    return checked("bare read", ceiling), checked(call.path, m)

                bare_api, month_api = read(paths.month(), budget.reads)
                bare_link, month_link = read(paths.month(public=True), budget.reads)
                bare_day, one_day = read(paths.one_day(), budget.fast_reads)
                _, page = read(paths.page(), budget.reads)
            all_const = bare_api.latencies_ms + bare_link.latencies_ms + bare_day.latencies_ms
            r["bare_read_ms"] = statistics.median(all_const)
            r["bare_reads_per_s"] = bare_day.per_second
            r["slots_30_days_api_ms"] = month_api.median_ms
            r["slots_30_days_link_ms"] = month_link.median_ms
            r["slots_30_days_api_x_bare_read"] = month_api.median_ms / bare_api.median_ms
            r["slots_30_days_link_x_bare_read"] = month_link.median_ms / bare_link.median_ms
            r["slots_one_day_ms"] = one_day.median_ms
            r["slots_one_day_per_s"] = one_day.per_second
            r["booking_page_week_ms"] = page.median_ms
            note(f"{engine}: reads measured")

            # Bookings: each run on a fresh copy, on distinct free slots read beforehand.
            ceilings: dict[int, list[float]] = {1: [], CONCURRENT: []}
            insert_ms: list[float] = []
            for public in (False, True):
                for concurrency in (1, CONCURRENT):
                    name = f"bookings_{'link' if public else 'api'}"
                    if concurrency > 1:
                        name += f"_{concurrency}"
                    env = server_env(dbs.fresh_copy())
                    with Server("widget:create_app()", env, logs / f"{engine}.log") as app:
                        warm_up(app.port, paths.link_info())
                        starts = paths.free_starts(app.port)
                        calls = [paths.booking(s, n, public=public) for n, s in enumerate(starts)]
                        warm = 10
                        measure(app.port, calls[:warm], expect=201, rounds=1)
                        wanted = budget.writes if concurrency == 1 else budget.concurrent_writes
                        ceiling, m = alternate(
                            [
                                Load(bare.port, [insert] * wanted, 201),
                                Load(app.port, calls[warm : warm + wanted], 201),
                            ],
                            concurrency=concurrency,
                            seconds=budget.seconds,
                        )
                    checked(f"bare insert x{concurrency}", ceiling)
                    checked(name, m)
                    r[f"{name}_per_s"] = m.per_second
                    if concurrency == 1:
                        r[f"{name}_ms"] = m.median_ms
                        insert_ms += ceiling.latencies_ms
                    r[f"{name}_count"] = m.count
                    r[f"{name}_bare_inserts_per_s"] = ceiling.per_second
                    ceilings[concurrency].append(ceiling.per_second)
                    suffix = "" if concurrency == 1 else f"_{concurrency}"
                    r[f"{name}_x_bare_insert{suffix}"] = m.per_second / ceiling.per_second
                    note(f"{engine}: {name} measured")
    r["bare_inserts_per_s"] = statistics.median(ceilings[1])
    r["bare_insert_ms"] = statistics.median(insert_ms)
    r["bare_inserts_8_per_s"] = statistics.median(ceilings[CONCURRENT])
    return r


ROWS = [
    # (key, label, format, target)
    ("slots_30_days_in_process_ms", "1. 30-day slots, in process (ms)", ".2f", None),
    ("slots_30_days_api_ms", "1. 30-day slots, GET /api/v1/slots (ms)", ".2f", None),
    ("slots_30_days_link_ms", "1. 30-day slots, public link (ms)", ".2f", None),
    ("bare_read_ms", "   bare Flask constant JSON (ms)", ".2f", None),
    ("slots_30_days_api_x_bare_read", "   API slots / bare read (x)", ".1f", ("<=", 10.0)),
    ("slots_30_days_link_x_bare_read", "   link slots / bare read (x)", ".1f", ("<=", 10.0)),
    ("slots_one_day_per_s", "2. one-day slots (req/s)", ".0f", None),
    ("slots_one_day_ms", "2. one-day slots (ms)", ".2f", None),
    ("bare_reads_per_s", "   bare Flask constant JSON (req/s)", ".0f", None),
    ("bookings_api_per_s", "3. bookings, POST /api/v1/bookings (/s)", ".0f", None),
    ("bookings_api_ms", "3. bookings, POST /api/v1/bookings (ms)", ".2f", None),
    ("bookings_link_per_s", "3. bookings, public link (/s)", ".0f", None),
    ("bookings_link_ms", "3. bookings, public link (ms)", ".2f", None),
    ("bare_inserts_per_s", "   bare Flask INSERT+COMMIT (/s)", ".0f", None),
    ("bookings_api_x_bare_insert", "   API bookings / bare insert", ".2f", (">=", 1 / 3)),
    ("bookings_link_x_bare_insert", "   link bookings / bare insert", ".2f", (">=", 1 / 3)),
    ("bookings_api_8_per_s", "4. bookings x8 clients, API (/s)", ".0f", None),
    ("bookings_link_8_per_s", "4. bookings x8 clients, public link (/s)", ".0f", None),
    ("bare_inserts_8_per_s", "   bare INSERT+COMMIT x8 clients (/s)", ".0f", None),
    ("bookings_api_8_x_bare_insert_8", "   API x8 / bare insert x8", ".2f", None),
    ("bookings_link_8_x_bare_insert_8", "   link x8 / bare insert x8", ".2f", None),
    ("booking_page_week_ms", "page GET /l/{token}?type= week (ms)", ".2f", None),
]


def meets(value: float, target: tuple[str, float]) -> bool:
    op, bound = target
    return value <= bound if op == "<=" else value >= bound


def table(results: dict[str, dict[str, Any]]) -> str:
    engines = list(results)
    lines = [f"{'figure':44}" + "".join(f"{e:>13}" for e in engines) + "  target"]
    for key, label, fmt, target in ROWS:
        cells = "".join(f"{results[e][key]:>13{fmt}}" for e in engines)
        note = ""
        if target:
            verdict = ["met" if meets(results[e][key], target) else "MISSED" for e in engines]
            note = f"  {target[0]} {target[1]:.2f}: " + "/".join(verdict)
        lines.append(f"{label:44}{cells}{note}")
    lines.append("SQL statements per request (in process)")
    for key in next(iter(results.values()))["sql_statements"]:
        cells = "".join(f"{results[e]['sql_statements'][key]:>13}" for e in engines)
        lines.append(f"   {key:41}{cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WIDGET_TEST_POSTGRES_URL"),
        help="a PostgreSQL server URL (throwaway databases are made there); "
        "default $WIDGET_TEST_POSTGRES_URL; without one, SQLite only",
    )
    parser.add_argument("--quick", action="store_true", help="a fifth of the requests")
    parser.add_argument("--output", default=str(HERE / "results" / "bench.json"))
    args = parser.parse_args()
    budget = Budget(0.2 if args.quick else 1.0)
    logs = HERE / "results" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    results: dict[str, dict[str, Any]] = {"sqlite": run_engine("sqlite", None, budget, logs)}
    if args.postgres:
        results["postgresql"] = run_engine("postgresql", args.postgres, budget, logs)
    seconds = time.perf_counter() - began
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "gunicorn_workers": 2,
        "quick": args.quick,
        "seconds": seconds,
        "results": results,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"\n{seconds:.0f} s; written to {output}")


if __name__ == "__main__":
    main()

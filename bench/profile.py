"""Profile one request of the benchmark in process, with pyinstrument.

usage: python bench/profile.py {slots,link-slots,page,booking,link-booking}
                               [--postgres URL] [--count N] [--html FILE]

Builds the standard workload (SQLite, or a throwaway PostgreSQL database), sends the
request N times through the Flask test client (bookings: each on its own free slot)
and prints pyinstrument's call tree. pyinstrument is a profiling tool, not one of
Widget's dependencies: `pip install pyinstrument` into the virtualenv first.
"""

import argparse
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pyinstrument import Profiler  # noqa: E402
from run import Paths  # noqa: E402
from workload import Databases, bench_app  # noqa: E402

from widget.extensions import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["slots", "link-slots", "page", "booking", "link-booking"])
    parser.add_argument("--postgres", help="a PostgreSQL server URL; default SQLite")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    args = parser.parse_args()
    engine = "postgresql" if args.postgres else "sqlite"
    with Databases(engine, args.postgres) as dbs:
        assert dbs.workload is not None
        paths = Paths(dbs.workload)
        app = bench_app(dbs.fresh_copy())
        http = app.test_client()
        horizon = paths.slots(paths.today, paths.today + timedelta(days=179))
        answer = http.get(horizon.path, headers=horizon.headers).get_json()
        starts = [slot["start"] for slot in answer["slots"]]
        if args.what == "slots":
            calls = [paths.month()] * args.count
        elif args.what == "link-slots":
            calls = [paths.month(public=True)] * args.count
        elif args.what == "page":
            calls = [paths.page()] * args.count
        else:
            public = args.what == "link-booking"
            calls = [paths.booking(s, n, public=public) for n, s in enumerate(starts)]
            calls = calls[: args.count]
        for call in calls[:5]:  # warm: compiled SQL, templates, imports
            http.open(call.path, method=call.method, json=call.body, headers=call.headers).close()
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for call in calls[5:]:
            response = http.open(
                call.path, method=call.method, json=call.body, headers=call.headers
            )
            assert response.status_code < 300, response.text
            response.close()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            Path(args.html).write_text(profiler.output_html())
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()

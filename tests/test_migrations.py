"""The shipped migrations build exactly the schema the models describe, on each engine."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from widget.extensions import db


def test_the_migrations_and_the_models_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_postgresql_refuses_overlapping_live_bookings_by_constraint(app, engine_name):
    if engine_name != "postgresql":
        return
    names = {c["name"] for c in inspect(db.engine).get_check_constraints("bookings")}
    with db.engine.connect() as connection:
        exclusions = (
            connection.exec_driver_sql("SELECT conname FROM pg_constraint WHERE contype = 'x'")
            .scalars()
            .all()
        )
    assert "ck_bookings_times" in names
    assert exclusions == ["ex_bookings_no_overlap"]

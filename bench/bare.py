"""The ceilings every Widget figure is compared with: bare Flask, served the same way.

`GET /const` returns a constant JSON body (the read ceiling). `POST /insert` does one
INSERT and COMMIT in the same database as Widget (WIDGET_DATABASE_URL), through a
SQLAlchemy pool with Widget's own engine settings (on SQLite: WAL, BEGIN IMMEDIATE),
and answers 201 (the write ceiling). The table comes with the workload (workload.py).
"""

import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine
from workload import BARE_ROWS

from widget.extensions import configure_engine

app = Flask(__name__)
engine = create_engine(os.environ.get("WIDGET_DATABASE_URL", "sqlite://"))
configure_engine(engine)


@app.get("/const")
def const():  # type: ignore[no-untyped-def]
    return jsonify({"slots": []})


@app.post("/insert")
def insert():  # type: ignore[no-untyped-def]
    body = request.get_json()
    with engine.begin() as connection:
        connection.execute(BARE_ROWS.insert(), {"note": str(body.get("note", ""))[:40]})
    return jsonify({"ok": True}), 201

"""The ceiling every Widget figure is compared with: bare Flask, served the same way."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/const")
def const():  # type: ignore[no-untyped-def]
    return jsonify({"slots": []})

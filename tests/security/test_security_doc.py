"""SECURITY.md backs every claim with a test: each claim names one, and each named test exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _claims() -> list[str]:
    """The bullets of the 'How' section, each with its continuation lines."""
    text = (ROOT / "SECURITY.md").read_text()
    how = text.split("\n## How\n", 1)[1].split("\n## ", 1)[0]
    claims: list[str] = []
    for line in how.splitlines():
        if line.startswith("- "):
            claims.append(line)
        elif line.startswith("  ") and claims:
            claims[-1] += " " + line.strip()
    return claims


def test_every_claim_names_a_test():
    claims = _claims()
    assert len(claims) > 40
    unbacked = [claim for claim in claims if not REFERENCE.search(claim)]
    assert unbacked == []


def test_every_test_named_exists():
    references = REFERENCE.findall((ROOT / "SECURITY.md").read_text())
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file()
        or not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert references and missing == []

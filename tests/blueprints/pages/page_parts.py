"""Reading the booking pages the way a browser without JavaScript would: forms and links."""

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    inputs: list[dict[str, str | None]] = field(default_factory=list)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: set[str] = set()
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form((a.get("method") or "get").lower(), unescape(a["action"] or "")))
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        elif tag in {"input", "select", "textarea"} and self.forms:
            self.forms[-1].inputs.append({"tag": tag, **a})
            if tag == "select":
                self._select = a.get("name")
            elif a.get("name") and a.get("type") not in {"submit", "button"}:
                self.forms[-1].fields[a["name"] or ""] = a.get("value") or ""
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1].fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def read_forms(html: str) -> tuple[list[Form], set[str]]:
    """The page's forms and the ids its labels point at."""
    reader = _FormReader()
    reader.feed(html)
    return reader.forms, reader.labels


def booking_form(html: str) -> Form:
    [form] = [f for f in read_forms(html)[0] if f.method == "post"]
    return form


def hrefs(html: str, css_class: str) -> list[str]:
    """The targets of the links with this class, in page order."""
    return [unescape(h) for h in re.findall(rf'<a class="{css_class}" href="([^"]+)"', html)]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))

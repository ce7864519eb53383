"""Signed tokens: tampered, foreign-key, replayed and cross-purpose tokens are all refused.

Each purpose has its own salt (widget/domain/tokens.py), so a token made for one
purpose (share link, confirmation, manage, magic login, password set) is not valid for
any other, even though all are signed with the same keys.
"""

from typing import Any

from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from widget.domain import tokens

from .conftest import World, csrf_token, links_in_mail

FOREIGN_KEY = "someone-elses-key-0123456789"


def _collect(world: World) -> dict[str, str]:
    """One live token of each purpose, taken from the links Widget itself sent."""
    http = world.portal()
    slug = world.slug
    token = csrf_token(http, f"/portal/{slug}/")
    assert http.post(f"/portal/{slug}/password", data={"csrf_token": token}).status_code == 302
    client_links = links_in_mail(world.client["email"])
    visitor_links = links_in_mail(world.visitor_email)

    def last(links: list[str], prefix: str) -> str:
        return [p for p in links if p.startswith(prefix)][-1].split("?")[0].rsplit("/", 1)[-1]

    ask = world.app.test_client()
    path = f"/portal/{slug}/login"
    ask.post(
        path,
        data={
            "link-csrf_token": csrf_token(ask, path),
            "mode": "link",
            "link-email": world.client["email"],
        },
    )
    return {
        "share": world.link["token"],
        "confirm": last(visitor_links, "/confirm/"),
        "manage": last(visitor_links, "/manage/"),
        "magic": last(links_in_mail(world.client["email"]), f"/portal/{slug}/login/"),
        "password": last(client_links, f"/portal/{slug}/password/"),
    }


def _use(world: World, http: FlaskClient, purpose: str, token: str) -> int:
    """Present `token` where a token of `purpose` is expected; the answer's status."""
    slug = world.slug
    if purpose == "share":
        statuses = [http.get(f"/api/v1/links/{token}").status_code]
        statuses += [http.get(f"/l/{token}").status_code, http.get(f"/embed/{token}").status_code]
        assert len(set(statuses)) == 1, statuses
        return statuses[0]
    if purpose == "confirm":
        return http.get(f"/confirm/{token}").status_code
    if purpose == "manage":
        return http.get(f"/manage/{token}").status_code
    if purpose == "password":
        return http.get(f"/portal/{slug}/password/{token}").status_code
    path = f"/portal/{slug}/login/{token}"
    answer = http.post(path, data={"csrf_token": csrf_token(http, path)})
    if answer.status_code == 302:
        return 302
    assert http.get(f"/portal/{slug}/").status_code == 302, "a refused link logged someone in"
    return answer.status_code


def _tamper(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


def test_a_token_made_for_one_purpose_is_refused_for_every_other(world: World) -> None:
    live = _collect(world)
    for purpose, token in live.items():
        for other in live:
            if other == purpose:
                continue
            status = _use(world, world.app.test_client(), other, token)
            assert status in (400, 403, 404, 410), (purpose, "as", other, status)


def test_tampered_and_foreign_key_tokens_are_refused(world: World) -> None:
    live = _collect(world)
    for purpose, token in live.items():
        assert _use(world, world.app.test_client(), purpose, _tamper(token)) == 404, purpose
    forged = URLSafeSerializer([FOREIGN_KEY], salt=tokens.SHARE_LINK).dumps(world.link["id"])
    assert _use(world, world.app.test_client(), "share", forged) == 404
    assert world.app.test_client().get(f"/api/v1/links/{forged}").get_json()["error"]["code"] == (
        "link_invalid"
    )


def test_a_token_signed_with_another_purposes_salt_is_refused(world: World) -> None:
    """The share link's own value, re-signed with our keys under every other salt."""
    keys = [world.app.config["SECRET_KEY"]]
    value = URLSafeSerializer(keys, salt=tokens.SHARE_LINK).loads(world.link["token"])
    others = (tokens.CONFIRM_BOOKING, tokens.MANAGE_BOOKING, tokens.MAGIC_LOGIN)
    for salt in (*others, tokens.PASSWORD_SET, tokens.BOOKING_FORM):
        token = URLSafeSerializer(keys, salt=salt).dumps(value)
        assert _use(world, world.app.test_client(), "share", token) == 404, salt


def test_a_replayed_magic_link_is_refused(world: World, clock: Any) -> None:
    magic = _collect(world)["magic"]
    clock.advance(minutes=1)
    first = world.app.test_client()
    assert _use(world, first, "magic", magic) == 302
    assert _use(world, world.app.test_client(), "magic", magic) in (403, 410)

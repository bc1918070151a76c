"""Invite codes cannot be guessed at request speed: binding is limited per homeowner and per
client address, in Redis when it is configured (issue 12, item 12)."""

from __future__ import annotations

import itertools

import pytest

from app import create_app
from tests.conftest import REDIS_URL, env_for_tests
from tests.projects.helpers import MINI_APPID, MINI_SECRET, invite

LIMITS = {"INVITE_BIND_LIMIT": "3/hour", "INVITE_BIND_CLIENT_LIMIT": "5/hour"}


def mini_client(fake, uploads, **extra):
    fake.add_app(MINI_APPID, MINI_SECRET)
    env = env_for_tests(WECHAT_API_BASE=fake.url, UPLOAD_DIR=str(uploads), **LIMITS, **extra)
    client = create_app(env).test_client()
    codes = itertools.count(1)

    def login(openid: str) -> dict:
        code = f"limit-{openid}-{next(codes)}"
        fake.add_js_code(code, openid=openid)
        response = client.post("/mini/v1/login", json={"code": code})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    client.login = login
    return client


def guess(client, headers, code="WRONG234", address="203.0.113.7"):
    return client.post(
        "/mini/v1/bind",
        json={"invite_code": code},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_guesses_of_one_homeowner_are_stopped(site, fake_wechat, uploads):
    client = mini_client(fake_wechat, uploads)
    guesser = client.login("oGuesser")
    assert [guess(client, guesser).status_code for _ in range(3)] == [400, 400, 400]
    refused = guess(client, guesser, code=invite(site))  # even the right code, now
    assert refused.status_code == 429
    assert refused.json["error"]["message"] == "尝试次数过多，请稍后再试"
    assert client.get("/mini/v1/me", headers=guesser).json["bound"] is False
    other = client.login("oSomeoneElse")
    assert guess(client, other, code=invite(site), address="198.51.100.1").status_code == 200


def test_many_homeowners_guessing_from_one_address_are_stopped(site, fake_wechat, uploads):
    client = mini_client(fake_wechat, uploads)
    statuses = [guess(client, client.login(f"oBot{i}")).status_code for i in range(6)]
    assert statuses == [400] * 5 + [429]
    elsewhere = guess(client, client.login("oHonest"), code=invite(site), address="192.0.2.9")
    assert elsewhere.status_code == 200


@pytest.mark.redis
def test_every_process_shares_the_count_in_redis(site, fake_wechat, uploads, redis_conn):
    first = mini_client(fake_wechat, uploads, REDIS_URL=REDIS_URL)
    second = mini_client(fake_wechat, uploads, REDIS_URL=REDIS_URL)  # another gunicorn worker
    headers = first.login("oSpread")
    statuses = [guess(app, headers).status_code for app in (first, second, first, second)]
    assert statuses == [400, 400, 400, 429]
    assert any(key.startswith(b"zxcrm") for key in redis_conn.scan_iter())


def test_a_proxy_in_front_is_trusted_only_when_configured(site, fake_wechat, uploads):
    """Behind TRUSTED_PROXIES reverse proxies the client is X-Forwarded-For's; without the
    setting the header is anyone's to write and is ignored."""
    proxied = mini_client(fake_wechat, uploads, TRUSTED_PROXIES="1")
    for i in range(5):
        forwarded = {**proxied.login(f"oViaProxy{i}"), "X-Forwarded-For": "203.0.113.50"}
        assert guess(proxied, forwarded, address="10.0.0.1").status_code == 400
    last = {**proxied.login("oViaProxy5"), "X-Forwarded-For": "203.0.113.50"}
    assert guess(proxied, last, address="10.0.0.1").status_code == 429
    other = {**proxied.login("oViaProxy6"), "X-Forwarded-For": "203.0.113.51"}
    assert guess(proxied, other, address="10.0.0.1").status_code == 400

    direct = mini_client(fake_wechat, uploads)
    for i in range(5):
        spoofed = {**direct.login(f"oSpoof{i}"), "X-Forwarded-For": f"198.51.100.{i}"}
        assert guess(direct, spoofed).status_code == 400
    spoofed = {**direct.login("oSpoof5"), "X-Forwarded-For": "198.51.100.99"}
    assert guess(direct, spoofed).status_code == 429

"""Pytest plugin: the fake WeChat/WeCom API server, its settings, Redis db 15, a loopback guard.

Load from tests/conftest.py with `pytest_plugins = ["tests.fixtures_wechat"]`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
import requests.adapters

from tests.fakewechat import FakeWeChat, fake_settings

# Its own variable: the app tests use TEST_REDIS_URL (db 14), and this db is flushed.
TEST_REDIS_URL = os.environ.get("TEST_WECHAT_REDIS_URL", "redis://127.0.0.1:6379/15")


class NetworkGuardError(AssertionError):
    """A test tried to reach a host other than loopback."""


def _check_host(host: str | None) -> None:
    if host in ("localhost",):
        return
    try:
        if ipaddress.ip_address((host or "").split("%")[0]).is_loopback:
            return
    except ValueError:
        pass
    raise NetworkGuardError(f"network access outside loopback attempted: {host!r}")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection (socket or requests) that is not to 127.0.0.1 / ::1 / localhost."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_send = requests.adapters.HTTPAdapter.send

    def guarded(real):
        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                _check_host(address[0])
            return real(sock, address)

        return connect

    def send(adapter, request, *args, **kwargs):
        _check_host(urlsplit(request.url).hostname)  # before DNS, so no lookup leaks either
        return real_send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


@pytest.fixture(scope="session")
def fake_wechat_server() -> Iterator[FakeWeChat]:
    """One fake server for the whole session (use `fake_wechat`, which resets it)."""
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_wechat(fake_wechat_server: FakeWeChat) -> FakeWeChat:
    """The fake server, reset, with this process's cached WeChat tokens forgotten."""
    from app.core.wechat import clear_memory_tokens

    fake_wechat_server.reset()
    clear_memory_tokens()  # the fake forgot its tokens; so must the in-memory token stores
    return fake_wechat_server


@pytest.fixture
def wechat_settings(fake_wechat: FakeWeChat) -> dict[str, str]:
    """Settings (env variable names) with WECHAT_API_BASE / WECOM_API_BASE at the fake."""
    return fake_settings(fake_wechat.url)


@pytest.fixture
def wechat_redis() -> Iterator[redis.Redis]:
    """Redis db 15, flushed before and after the test; skips when Redis is not running."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"redis not reachable at {TEST_REDIS_URL}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()

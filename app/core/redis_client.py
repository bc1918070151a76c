"""The one Redis connection pool of the app (queue, locks, WeChat token cache)."""

from __future__ import annotations

import redis
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL", "")
    # Short timeouts: a webhook must answer WeChat within 5 s even when Redis hangs.
    app.extensions["redis"] = (
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2) if url else None
    )


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when REDIS_URL is unset (development)."""
    return current_app.extensions.get("redis")

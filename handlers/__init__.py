"""WeChat (official account) and WeCom callbacks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Callbacks are registered here as they are built."""

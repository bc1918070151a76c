"""/mini/v1: the mini program's JSON API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Mini-program routes are registered here as they are built."""

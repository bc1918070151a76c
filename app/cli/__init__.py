"""`flask` commands of the app: staff, seed, data-key, tags, value (worker and scheduler:
jobs/cli.py)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli import datakey, seed, staff, tags, trace, value

    for group in (staff.staff_cli, seed.seed_cli, datakey.datakey_cli, tags.tags_cli):
        app.cli.add_command(group)
    app.cli.add_command(trace.trace_cli)
    app.cli.add_command(value.value_cli)

"""`flask` commands: staff, seed, data-key, worker, scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli import datakey, seed, staff, tags, workers

    for group in (staff.staff_cli, seed.seed_cli, datakey.datakey_cli, tags.tags_cli):
        app.cli.add_command(group)
    app.cli.add_command(workers.worker)
    app.cli.add_command(workers.scheduler)

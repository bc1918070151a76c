"""装修客户管家: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.config import INSTANCE_DIR, PROJECT_ROOT, load_config
from app.core.json_provider import OrjsonProvider
from app.core.sessions import ConsoleSessions
from app.schemas.validation import AsciiIntConverter, BoundedStringConverter


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app. `config` overrides environment variables (tests use it)."""
    if os.environ.get("APP_ENV", "development") == "development":
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    settings = load_config({**os.environ, **(config or {})})

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.json = OrjsonProvider(app)
    app.url_map.converters["int"] = AsciiIntConverter  # before any route: ids in ASCII digits
    app.url_map.converters["string"] = BoundedStringConverter  # bounds OpenAPI can document
    app.session_interface = ConsoleSessions()
    app.config.update(settings)
    if proxies := settings["TRUSTED_PROXIES"]:  # the client's address, not the proxy's
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    INSTANCE_DIR.mkdir(exist_ok=True)

    from app import cli
    from app import hooks as app_hooks
    from app.api import init_app as init_api
    from app.console import init_app as init_console
    from app.core import database, errors, extensions, logs, redis_client
    from app.schemas import spec
    from app.web import health, lead_form, media
    from app.web import trace as trace_page
    from handlers import init_app as init_handlers
    from jobs import cli as job_commands
    from miniprogram_api import init_app as init_mini

    logs.init_app(app)
    extensions.db.init_app(app)
    database.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    redis_client.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    media.init_app(app)
    trace_page.init_app(app)
    lead_form.init_app(app)
    init_api(app)
    init_handlers(app)
    init_mini(app)
    init_console(app)
    spec.init_app(app)  # both OpenAPI documents, from the routes declared above
    cli.init_app(app)
    for command in (job_commands.worker, job_commands.scheduler):
        app.cli.add_command(command)
    app_hooks.init_app(app)
    return app

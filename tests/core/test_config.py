import subprocess
import sys

import pytest

from app.core.config import (
    ConfigError,
    env_bool,
    env_hhmm,
    env_int,
    load_config,
    normalise_database_url,
)

PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "s",
    "DATA_KEY": "d",
    "DATABASE_URL": "postgresql://x@h/db",
    "REDIS_URL": "redis://h:6379/0",
}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATA_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_start_names_the_missing_secret(missing):
    env = {k: v for k, v in PROD.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(env)


def test_production_with_everything_set_starts():
    config = load_config(PROD)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://x@h/db"
    assert config["TIMEZONE"] == "Asia/Shanghai"
    assert config["RESPONSE_CHECKS"] is False  # answers are checked in development and tests


def test_answers_are_checked_outside_production():
    assert load_config({})["RESPONSE_CHECKS"] is True
    assert load_config({"APP_ENV": "test"})["RESPONSE_CHECKS"] is True
    assert load_config({**PROD, "RESPONSE_CHECKS": "true"})["RESPONSE_CHECKS"] is True


def test_development_defaults_to_sqlite_under_instance():
    config = load_config({})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("instance/crm.sqlite3")
    assert config["REDIS_URL"] == ""


def test_typed_parsers_name_the_variable():
    with pytest.raises(ConfigError, match="MAX_BODY_BYTES"):
        load_config({"MAX_BODY_BYTES": "lots"})
    assert env_int({"N": " 7 "}, "N", 1) == 7
    assert env_bool({"B": "yes"}, "B") is True
    with pytest.raises(ConfigError, match="B"):
        env_bool({"B": "maybe"}, "B")
    assert env_hhmm({}, "T", "08:30") == (8, 30)
    with pytest.raises(ConfigError, match="T"):
        env_hhmm({"T": "25:00"}, "T", "08:30")
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"


def test_gunicorn_style_start_without_secret_key_fails_loudly(tmp_path):
    env = {k: v for k, v in PROD.items() if k != "SECRET_KEY"}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "SECRET_KEY" in proc.stderr


def test_gunicorn_production_settings_come_from_the_environment(monkeypatch):
    import os
    import runpy

    from app.core.config import PROJECT_ROOT

    path = str(PROJECT_ROOT / "gunicorn.conf.py")
    for name in ("WEB_BIND", "WEB_WORKERS", "WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    defaults = runpy.run_path(path)
    assert (defaults["worker_class"], defaults["threads"]) == ("gthread", 4)
    assert defaults["workers"] == os.cpu_count() and defaults["bind"] == "0.0.0.0:8000"
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "8")
    monkeypatch.setenv("WEB_BIND", "127.0.0.1:9000")
    chosen = runpy.run_path(path)
    assert (chosen["workers"], chosen["threads"], chosen["bind"]) == (3, 8, "127.0.0.1:9000")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRACE_SCAN_FLUSH_MS", "-1"),
        ("TRACE_SCAN_FLUSH_MS", "600000"),
        ("TRACE_SCAN_REFRESH_SECONDS", "0"),
    ],
)
def test_the_scan_book_settings_are_bounded(name, value):
    """A refresh of 0 would read the whole batch again at every scan."""
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})
    assert load_config({})["TRACE_SCAN_FLUSH_MS"] == 50

"""Configuration from the environment only, parsed by small typed helpers.

Every setting the product reads is declared here once, with its type and default, so
`.env.example` and this file are the two places an operator looks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import orjson
from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Settings that must be present when APP_ENV=production: a missing one stops the start.
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATA_KEY", "DATABASE_URL", "REDIS_URL")

DEV_SECRET = "dev-insecure-secret-key-change-me"
DEV_DATA_KEY = "dev-insecure-data-key-change-me-0123456789"


class ConfigError(RuntimeError):
    """A setting is missing or cannot be parsed; the message names the variable."""


def env_str(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, default).strip()


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {raw!r}")


def env_list(env: Mapping[str, str], name: str, default: str = "") -> list[str]:
    raw = env.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_hhmm(env: Mapping[str, str], name: str, default: str) -> tuple[int, int]:
    raw = env.get(name, "").strip() or default
    try:
        hour, minute = (int(part) for part in raw.split(":"))
    except ValueError as exc:
        raise ConfigError(f"{name} must look like HH:MM, got {raw!r}") from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigError(f"{name} must be a time of day HH:MM, got {raw!r}")
    return hour, minute


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'crm.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the common way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(env: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config mapping from an environment mapping."""
    env = os.environ if env is None else env
    app_env = env_str(env, "APP_ENV", "development")
    if app_env == "production":
        missing = [name for name in PRODUCTION_REQUIRED if not env_str(env, name)]
        if missing:
            raise ConfigError(
                "APP_ENV=production needs these environment variables: " + ", ".join(missing)
            )
    database_url = normalise_database_url(env_str(env, "DATABASE_URL") or default_database_url())
    return {
        "APP_ENV": app_env,
        "TESTING": app_env == "test",
        "SECRET_KEY": env_str(env, "SECRET_KEY") or DEV_SECRET,
        "DATA_KEY": env_str(env, "DATA_KEY") or DEV_DATA_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, app_env),
        "REDIS_URL": env_str(env, "REDIS_URL"),
        "TIMEZONE": env_str(env, "TIMEZONE", "Asia/Shanghai"),
        "LOG_LEVEL": env_str(env, "LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": env_int(env, "MAX_BODY_BYTES", 1024 * 1024),
        # Answers checked against their declared shapes (app.schemas.spec): not in production.
        "RESPONSE_CHECKS": env_bool(env, "RESPONSE_CHECKS", app_env != "production"),
        **wechat_settings(env),
        **reply_settings(env),
        **tagging_settings(env),
        **project_settings(env),
        **notice_settings(env),
        **trace_settings(env, app_env),
        **enrichment_settings(env),
        **access_settings(env),
        **console_settings(env, app_env),
        **referral_settings(env),
        **sales_settings(env),
    }


def referral_settings(env: Mapping[str, str]) -> dict:
    """口碑银行 (issue 14): the attribution window, rewards in credits, the review rules."""
    return {
        "REFERRAL_ATTRIBUTION_DAYS": env_int(env, "REFERRAL_ATTRIBUTION_DAYS", 90),
        "REFERRAL_SIGN_REWARD": env_int(env, "REFERRAL_SIGN_REWARD", 2000),
        "REFERRAL_COMPLETION_BONUS": env_int(env, "REFERRAL_COMPLETION_BONUS", 0),
        "REFERRAL_VIP_COUNT": env_int(env, "REFERRAL_VIP_COUNT", 3),
        "REFERRAL_BURST_COUNT": env_int(env, "REFERRAL_BURST_COUNT", 3),
        "REFERRAL_BURST_MINUTES": env_int(env, "REFERRAL_BURST_MINUTES", 10),
        "REFERRAL_DEVICE_LIMIT": env_int(env, "REFERRAL_DEVICE_LIMIT", 2),
        "REFERRAL_REQUIRE_CONTACT": env_bool(env, "REFERRAL_REQUIRE_CONTACT", True),
    }


def console_settings(env: Mapping[str, str], app_env: str) -> dict:
    """The staff console's cookie session and sign-in throttling (issue 15)."""
    hours = env_int(env, "CONSOLE_SESSION_HOURS", 12)
    if hours < 1:
        raise ConfigError(f"CONSOLE_SESSION_HOURS must be at least 1, got {hours}")
    return {
        "SESSION_COOKIE_NAME": "zx_console",
        "SESSION_COOKIE_PATH": "/console",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_bool(env, "CONSOLE_COOKIE_SECURE", app_env == "production"),
        "PERMANENT_SESSION_LIFETIME": hours * 3600,
        # The token is bound to the session, which expires by itself: no second clock.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_CHECK_DEFAULT": False,
        "SIGNIN_FAILURES_PER_ACCOUNT": env_str(env, "SIGNIN_FAILURES_PER_ACCOUNT", "5/15minute"),
        "SIGNIN_FAILURES_PER_CLIENT": env_str(env, "SIGNIN_FAILURES_PER_CLIENT", "20/15minute"),
    }


# WeChat template ids of the notice templates (templates/notices/*.toml name these settings).
NOTICE_TEMPLATE_VARS = tuple(
    f"WECHAT_{app}_TPL_{name}"
    for name in ("PROGRESS", "APPROVAL", "DELIVERY", "MAINTENANCE", "GREETING", "REWARD", "SERVICE")
    for app in ("MINI", "MP")
)


def notice_settings(env: Mapping[str, str]) -> dict:
    """The outbox: decent hours (TIMEZONE), marketing cap, retries, template ids."""
    return {
        "NOTICE_WINDOW_START": env_hhmm(env, "NOTICE_WINDOW_START", "08:30"),
        "NOTICE_WINDOW_END": env_hhmm(env, "NOTICE_WINDOW_END", "21:00"),
        "MARKETING_PER_DAY": env_int(env, "MARKETING_PER_DAY", 1),
        "NOTICE_MAX_ATTEMPTS": env_int(env, "NOTICE_MAX_ATTEMPTS", 6),
        "NOTICE_STUCK_MINUTES": env_int(env, "NOTICE_STUCK_MINUTES", 5),
        "NOTICE_BATCH": env_int(env, "NOTICE_BATCH", 50),
        "NOTICE_SEND_THREADS": env_int(env, "NOTICE_SEND_THREADS", 8),
        "PUBLIC_BASE_URL": env_str(env, "PUBLIC_BASE_URL").rstrip("/"),
        "WECHAT_MINI_STATE": env_str(env, "WECHAT_MINI_STATE", "formal"),
        **{name: env_str(env, name) for name in NOTICE_TEMPLATE_VARS},
    }


def enrichment_settings(env: Mapping[str, str]) -> dict:
    """The enrichment backlog (app.services.inbound.backlog): retries, parking, the sweep."""
    settings = {
        "ENRICH_MAX_ATTEMPTS": env_int(env, "ENRICH_MAX_ATTEMPTS", 5),
        "ENRICH_RETRY_SECONDS": env_int(env, "ENRICH_RETRY_SECONDS", 60),
        "ENRICH_LEASE_SECONDS": env_int(env, "ENRICH_LEASE_SECONDS", 900),
        "ENRICH_SWEEP_AGE": env_int(env, "ENRICH_SWEEP_AGE", 60),
        "ENRICH_SWEEP_LIMIT": env_int(env, "ENRICH_SWEEP_LIMIT", 50_000),
    }
    for name, value in settings.items():
        if value < (1 if name in ("ENRICH_MAX_ATTEMPTS", "ENRICH_SWEEP_LIMIT") else 0):
            raise ConfigError(f"{name} must not be negative (nor 0 for a count), got {value}")
    return settings


def access_settings(env: Mapping[str, str]) -> dict:
    """Rate limits of invite-code binding, per homeowner and per client address, in the
    `limits` notation ("10/hour", "5 per minute"); TRUSTED_PROXIES: how many reverse proxies
    in front of the app set X-Forwarded-For (the client address is read behind them)."""
    limits = {
        "INVITE_BIND_LIMIT": env_str(env, "INVITE_BIND_LIMIT", "10/hour"),
        "MINI_UPLOAD_LIMIT": env_str(env, "MINI_UPLOAD_LIMIT", "60/hour"),
        "INVITE_BIND_CLIENT_LIMIT": env_str(env, "INVITE_BIND_CLIENT_LIMIT", "60/hour"),
    }
    for name, value in limits.items():
        try:
            parse_many(value)
        except ValueError as exc:
            raise ConfigError(f"{name} must read like '10/hour', got {value!r}") from exc
    return {**limits, "TRUSTED_PROXIES": env_int(env, "TRUSTED_PROXIES", 0)}


def reply_settings(env: Mapping[str, str]) -> dict:
    """Working hours (Asia/Shanghai by default) decide when the out-of-hours reply is sent."""
    start = env_hhmm(env, "WORK_START", "09:00")
    end = env_hhmm(env, "WORK_END", "18:00")
    days = env_list(env, "WORK_DAYS", "1,2,3,4,5,6")
    if not all(d.isdigit() and 1 <= int(d) <= 7 for d in days):
        raise ConfigError(f"WORK_DAYS must list ISO weekdays 1-7, got {days!r}")
    return {
        "WORK_START": start,
        "WORK_END": end,
        "WORK_DAYS": {int(d) for d in days},
        "OFF_HOURS_REPLY": env_str(env, "OFF_HOURS_REPLY"),
    }


def project_settings(env: Mapping[str, str]) -> dict:
    """Site photos and the mini-program session (issue 5)."""
    return {
        "PHOTO_MAX_BYTES": env_int(env, "PHOTO_MAX_BYTES", 10 * 1024 * 1024),
        "UPLOAD_DIR": env_str(env, "UPLOAD_DIR") or str(INSTANCE_DIR / "uploads"),
        "MEDIA_URL_TTL": env_int(env, "MEDIA_URL_TTL", 3600),
        "MINI_SESSION_TTL": env_int(env, "MINI_SESSION_TTL", 7 * 86400),
    }


def tagging_settings(env: Mapping[str, str]) -> dict:
    """Budget tiers (yuan): 高端 from BUDGET_HIGH up, 中端 from BUDGET_MID up, 经济 below."""
    high = env_int(env, "BUDGET_HIGH", 300_000)
    mid = env_int(env, "BUDGET_MID", 100_000)
    if not 0 < mid < high:
        raise ConfigError(f"BUDGET_MID must be positive and below BUDGET_HIGH, got {mid} / {high}")
    return {"BUDGET_HIGH": high, "BUDGET_MID": mid}


WECHAT_VARS = (
    "WECHAT_MP_APPID",
    "WECHAT_MP_SECRET",
    "WECHAT_MP_TOKEN",
    "WECHAT_MP_AES_KEY",
    "WECOM_CORP_ID",
    "WECOM_SECRET",
    "WECOM_AGENT_ID",
    "WECOM_TOKEN",
    "WECOM_AES_KEY",
    "WECOM_CONTACT_SECRET",
    "WECHAT_MINI_APPID",
    "WECHAT_MINI_SECRET",
)


def wechat_settings(env: Mapping[str, str]) -> dict:
    settings = {name: env_str(env, name) for name in WECHAT_VARS}
    settings["WECHAT_API_BASE"] = env_str(env, "WECHAT_API_BASE", "https://api.weixin.qq.com")
    settings["WECOM_API_BASE"] = env_str(env, "WECOM_API_BASE", "https://qyapi.weixin.qq.com")
    # With WECHAT_MP_AES_KEY set only encrypted posts are taken (their signature covers the
    # body); this allows plaintext too, for the minutes of switching the account's mode.
    settings["WECHAT_MP_ACCEPT_PLAIN"] = env_bool(env, "WECHAT_MP_ACCEPT_PLAIN", False)
    # Seconds a callback's signed timestamp may be from now, either way: WeChat retries
    # within seconds of the first try, so minutes cover retries and clock drift alike.
    max_age = env_int(env, "CALLBACK_MAX_AGE", 300)
    if max_age <= 0:
        raise ConfigError(f"CALLBACK_MAX_AGE must be a positive number of seconds, got {max_age}")
    settings["CALLBACK_MAX_AGE"] = max_age
    return settings


def engine_options(database_url: str, app_env: str = "development") -> dict:
    # Outside development and tests a database error never prints its bound parameters:
    # they are customers' messages, notes and phone hashes, and errors go to the log.
    hidden = {"hide_parameters": app_env not in ("development", "test")}
    # orjson reads stored JSON (photos, payloads) several times faster than json.loads.
    if database_url.startswith("sqlite"):
        # WAL and a busy timeout let the dev server and in-process jobs share the file.
        return {"connect_args": {"timeout": 15}, "json_deserializer": orjson.loads, **hidden}
    # No pre-ping: it costs a round trip on every request. A connection that died with a
    # database restart fails one request (callbacks answer 503 and WeChat retries) and the
    # pool then discards it; recycling keeps idle connections from going stale.
    return {
        "pool_size": 5,
        "max_overflow": 10,
        "pool_recycle": 1800,
        "json_deserializer": orjson.loads,
        **hidden,
    }


# Noto Sans CJK SC (Debian's fonts-noto-cjk, which `make` installs): the label sheets' font.
DEFAULT_LABEL_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def trace_settings(env: Mapping[str, str], app_env: str) -> dict:
    """Material trace codes (issue 13): the public base printed in QR codes, the scan page's
    rate limit, the anomaly rules, generation and upload limits."""
    base = env_str(env, "TRACE_PUBLIC_BASE") or env_str(env, "PUBLIC_BASE_URL")
    if not base and app_env in ("development", "test"):
        base = "http://127.0.0.1:5000"  # `make run`; production must say where /t/ lives
    return {
        "TRACE_PUBLIC_BASE": base.rstrip("/"),
        "WECHAT_OAUTH_BASE": env_str(env, "WECHAT_OAUTH_BASE", "https://open.weixin.qq.com"),
        "TRACE_SCAN_LIMIT": env_int(env, "TRACE_SCAN_LIMIT", 30),
        "TRACE_SCAN_WINDOW": env_int(env, "TRACE_SCAN_WINDOW", 60),
        **scan_book_settings(env),
        "TRACE_PROXY_HOPS": env_int(env, "TRACE_PROXY_HOPS", 0),
        "TRACE_MAX_CODES": env_int(env, "TRACE_MAX_CODES", 10_000),
        "TRACE_REPORT_MAX_BYTES": env_int(env, "TRACE_REPORT_MAX_BYTES", 20 * 1024 * 1024),
        "TRACE_ANOMALY_CLIENTS": env_int(env, "TRACE_ANOMALY_CLIENTS", 5),
        "TRACE_ANOMALY_MINUTES": env_int(env, "TRACE_ANOMALY_MINUTES", 60),
        "TRACE_LABEL_FONT": env_str(env, "TRACE_LABEL_FONT") or DEFAULT_LABEL_FONT,
    }


def scan_book_settings(env: Mapping[str, str]) -> dict:
    """Scans of held codes written by each web process every TRACE_SCAN_FLUSH_MS (0: each
    in its request); other processes' scans, deliveries and batch edits show on a process's
    pages within TRACE_SCAN_REFRESH_SECONDS (app.services.trace.scanbook)."""
    flush = env_int(env, "TRACE_SCAN_FLUSH_MS", 50)
    refresh = env_int(env, "TRACE_SCAN_REFRESH_SECONDS", 5)
    if not 0 <= flush <= 60_000:
        raise ConfigError(f"TRACE_SCAN_FLUSH_MS must be 0 to 60000, got {flush}")
    if not 1 <= refresh <= 3600:
        raise ConfigError(f"TRACE_SCAN_REFRESH_SECONDS must be 1 to 3600, got {refresh}")
    return {"TRACE_SCAN_FLUSH_MS": flush, "TRACE_SCAN_REFRESH_SECONDS": refresh}


def env_span(env: Mapping[str, str], name: str, default: str) -> tuple[tuple[int, int], ...]:
    """ "HH:MM-HH:MM" as (start, end), or () when the setting is blank and so is the default."""
    raw = env.get(name, default).strip()
    if not raw:
        return ()
    start, sep, end = raw.partition("-")
    if not sep:
        raise ConfigError(f"{name} must look like HH:MM-HH:MM, got {raw!r}")
    span = (env_hhmm({name: start}, name, start), env_hhmm({name: end}, name, end))
    if span[0] >= span[1]:
        raise ConfigError(f"{name} must end after it starts, got {raw!r}")
    return span


def env_weekdays(env: Mapping[str, str], name: str, default: str) -> frozenset[int]:
    """ISO weekdays written "1-5" or "1,2,3,6" (1 is Monday)."""
    days: set[int] = set()
    for item in env_list(env, name, default):
        low, _, high = item.partition("-")
        if not (low.isdigit() and (high or low).isdigit()):
            raise ConfigError(f"{name} must list ISO weekdays 1-7 such as 1-5, got {item!r}")
        days.update(range(int(low), int(high or low) + 1))
    if not days or not days <= set(range(1, 8)):
        raise ConfigError(f"{name} must list ISO weekdays 1-7 such as 1-5")
    return frozenset(days)


def env_dates(env: Mapping[str, str], name: str) -> frozenset[date]:
    """Dates written YYYY-MM-DD, separated by commas."""
    try:
        return frozenset(date.fromisoformat(item) for item in env_list(env, name))
    except ValueError as exc:
        raise ConfigError(f"{name} must list dates YYYY-MM-DD separated by commas") from exc


def sales_settings(env: Mapping[str, str]) -> dict:
    """The sales workflow (issue 16): the response SLA counted in working time (TIMEZONE),
    the first follow-up, the lead pool (公海) and the public lead form."""
    counts = {
        "SLA_RESPONSE_MINUTES": env_int(env, "SLA_RESPONSE_MINUTES", 15),
        "FOLLOWUP_FIRST_HOURS": env_int(env, "FOLLOWUP_FIRST_HOURS", 24),
        "POOL_IDLE_DAYS": env_int(env, "POOL_IDLE_DAYS", 7),
        "POOL_CLAIMS_PER_DAY": env_int(env, "POOL_CLAIMS_PER_DAY", 5),
        "POOL_RECLAIM_DAYS": env_int(env, "POOL_RECLAIM_DAYS", 30),
        "LEAD_DUPLICATE_MINUTES": env_int(env, "LEAD_DUPLICATE_MINUTES", 10),
    }
    for name, value in counts.items():
        if value < (0 if name == "POOL_RECLAIM_DAYS" else 1):
            raise ConfigError(f"{name} must be a positive number, got {value}")
    form_limit = env_str(env, "LEAD_FORM_LIMIT", "5/10minute;30/day")
    try:
        parse_many(form_limit)
    except ValueError as exc:
        raise ConfigError(
            f"LEAD_FORM_LIMIT must read like '5/10minute', got {form_limit!r}"
        ) from exc
    return {
        **counts,
        "SLA_WORK_HOURS": env_span(env, "SLA_WORK_HOURS", "09:00-18:00"),
        "SLA_LUNCH": env_span(env, "SLA_LUNCH", ""),
        "SLA_WORK_DAYS": env_weekdays(env, "SLA_WORK_DAYS", "1-5"),
        "SLA_HOLIDAYS": env_dates(env, "SLA_HOLIDAYS"),
        "LEAD_FORM_LIMIT": form_limit,
    }

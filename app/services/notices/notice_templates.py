"""Notice templates: one TOML file per kind in templates/notices/, rendered with Jinja.

A file holds the kind's audience, title and flags, a plain-text version (staff messages,
customer-service messages, rep tasks) and for each WeChat channel the *name of the
setting* that holds the template id, a link and the fields. Values are Jinja expressions
rendered in a sandbox with StrictUndefined: a missing value is an error at render time;
templates give their own defaults with `| default(...)` where one makes sense.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.core.config import PROJECT_ROOT
from app.services.notices.notice_fields import FieldError, cut_bytes, fit

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "notices"
CHANNELS = ("mini", "mp")
TEXT_BYTES = 2048  # WeCom text messages; customer-service text allows more, keep one rule


class NoticeRenderError(ValueError):
    """A notice cannot be rendered: unknown kind, missing value, field that cannot fit."""


@dataclass(frozen=True)
class ChannelTemplate:
    setting: str  # the setting (env variable) holding the WeChat template id
    link: Template | None
    link_kind: str  # "page" (a mini program page) or "url" (a web page)
    data: dict[str, Template]


@dataclass(frozen=True)
class NoticeTemplate:
    kind: str
    audience: str
    title: str
    text: Template
    marketing: bool = False
    urgent: bool = False
    channels: dict[str, ChannelTemplate] = field(default_factory=dict)


def _as_date(value) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    return datetime.fromisoformat(str(value)) if "T" in str(value) else date.fromisoformat(value)


def date_cn(value) -> str:
    """2026-11-22 → 2026年11月22日 (WeChat date fields accept this form)."""
    day = _as_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def datetime_cn(value, tz: str = "Asia/Shanghai") -> str:
    """An aware ISO time → local 2026年11月22日 09:00."""
    when = _as_date(value)
    if isinstance(when, datetime) and when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(tz))
    return f"{date_cn(when)} {when:%H:%M}" if isinstance(when, datetime) else date_cn(when)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters.update(date_cn=date_cn, datetime_cn=datetime_cn)
    return env


ENV = _environment()


def _channel(raw: Mapping) -> ChannelTemplate:
    kind = "page" if raw.get("page") else "url"
    link = raw.get(kind)
    data = {key: ENV.from_string(value) for key, value in raw["data"].items()}
    return ChannelTemplate(raw["template"], ENV.from_string(link) if link else None, kind, data)


@cache
def load(kind: str) -> NoticeTemplate:
    """The compiled template of `kind` (cached: files change only with a deploy)."""
    path = TEMPLATE_DIR / f"{kind}.toml"
    if not path.is_file():
        raise NoticeRenderError(f"unknown notice kind {kind!r}")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    channels = {name: _channel(raw[name]) for name in CHANNELS if name in raw}
    return NoticeTemplate(
        kind,
        raw["audience"],
        raw["title"],
        ENV.from_string(raw["text"]),
        raw.get("marketing", False),
        raw.get("urgent", False),
        channels,
    )


def kinds() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.toml"))


def _render(template: Template, context: Mapping, what: str) -> str:
    try:
        return template.render(context).strip()
    except (TemplateError, ValueError, TypeError) as exc:
        raise NoticeRenderError(f"{what}: {exc}") from exc


def _render_channel(
    kind: str, name: str, tpl: ChannelTemplate, context: Mapping, template_id: str
) -> dict:
    data = {}
    for key, value in tpl.data.items():
        try:
            data[key] = {"value": fit(key, _render(value, context, f"{kind}.{name}.{key}"))}
        except FieldError as exc:
            raise NoticeRenderError(f"{kind}.{name}: {exc}") from exc
    out = {"template_id": template_id, "data": data}
    link = _render(tpl.link, context, f"{kind}.{name}.link") if tpl.link else ""
    if link and (tpl.link_kind == "page" or link.startswith(("https://", "http://"))):
        out[tpl.link_kind] = link  # a url must be absolute (PUBLIC_BASE_URL), else no jump
    return out


def render(kind: str, context: Mapping, settings: Mapping) -> dict:
    """{"title", "text", and "mini"/"mp" when that channel's template id is configured}."""
    tpl = load(kind)
    text = _render(tpl.text, context, f"{kind}.text")
    if not text:
        raise NoticeRenderError(f"{kind}.text is empty")
    payload = {"title": tpl.title, "text": cut_bytes(text, TEXT_BYTES)}
    for name, channel in tpl.channels.items():
        template_id = settings.get(channel.setting) or ""
        if template_id:
            payload[name] = _render_channel(kind, name, channel, context, template_id)
    return payload

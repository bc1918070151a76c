"""WeChat (official account, mini program) and WeCom API clients built from configuration.

Subclasses of the wechatpy 1.8.18 clients, fixing three traps of plain wechatpy:
- Hosts: token fetch URLs, API groups with their own API_BASE_URL (wxa, datacube, card, ...)
  and some methods (customservice, semantic) hard-code the real hosts, ignoring
  WECHAT_API_BASE / WECOM_API_BASE: tests would leak to api.weixin.qq.com.
- Retries: auto_retry refetches the token and recurses without limit on 40001/40014/42001
  (measured: 487 calls, then RecursionError). We turn it off and refresh once ourselves.
- Sharing: each fetch invalidates the previous token (after 5 minutes), so processes must not
  fetch their own: tokens live in Redis and one process fetches under a Redis lock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any

import requests
from redis.exceptions import LockError, RedisError
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import APILimitedException, WeChatClientException  # noqa: F401
from wechatpy.oauth import WeChatOAuth
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

logger = logging.getLogger(__name__)
Settings = Mapping[str, Any]  # env variable name -> value (os.environ, app.config, a dict)

WECHAT_DEFAULT_BASE = "https://api.weixin.qq.com"
WECOM_DEFAULT_BASE = "https://qyapi.weixin.qq.com"
#: Official account / mini program: the token is invalid, not latest (40001), or expired.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
#: WeCom: 40001 means a wrong corpsecret, which no refresh can fix.
WECOM_TOKEN_ERRCODES = frozenset({40014, 42001})
#: Busy (-1) and rate limits (45009 daily/minute quota, 45011 per-user minute quota).
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})
HTTP_TIMEOUT = 10.0  # wechatpy's default is no timeout at all, and the token fetch never sets one
LOCK_TIMEOUT = 25  # a crashed fetcher's lock expires; > connect + read timeouts of one fetch
LOCK_WAIT = 30  # longer than LOCK_TIMEOUT, so a waiter outlives a crashed holder
REFRESH_MARGIN = 300  # refresh 5 min early; the old token keeps working 5 min after a refetch


class WeChatConfigError(RuntimeError):
    """A required WeChat/WeCom setting (appid, secret, corp id) is missing."""


def is_token_error(exc: BaseException, wecom: bool = False) -> bool:
    """True when `exc` says the access token was bad (a refresh might help)."""
    codes = WECOM_TOKEN_ERRCODES if wecom else TOKEN_ERRCODES
    return isinstance(exc, WeChatClientException) and exc.errcode in codes


def is_transient(exc: BaseException) -> bool:
    """True for busy, rate limits, HTTP errors, network or Redis failures: retry later."""
    if isinstance(exc, WeChatClientException):
        # wechatpy raises errcode=None for HTTP 4xx/5xx responses
        return exc.errcode is None or exc.errcode in TRANSIENT_ERRCODES
    return isinstance(exc, (requests.RequestException, RedisError))


class _TTLMemoryStorage(MemoryStorage):
    """MemoryStorage that honours ttl (wechatpy's ignores it, so a token would never expire)."""

    def get(self, key, default=None):
        value, deadline = self._data.get(key, (default, None))
        if deadline is not None and deadline <= time.monotonic():
            return default
        return value

    def set(self, key, value, ttl=None):
        if value is not None:
            self._data[key] = (value, time.monotonic() + ttl if ttl else None)


_registry_lock = threading.Lock()
_memory_stores: dict[str, _TTLMemoryStorage] = {}
_local_locks: dict[str, threading.Lock] = {}


def _shared(table: dict, name: str, factory):
    """One object per name per process (token stores and fetch locks are per app)."""
    with _registry_lock:
        if name not in table:
            table[name] = factory()
        return table[name]


def clear_memory_tokens() -> None:
    """Forget the tokens cached in this process (tests: the fake server forgets its tokens)."""
    with _registry_lock:
        for store in _memory_stores.values():
            store._data.clear()


def _rebase(url: str, default: str, base: str) -> str:
    """Move a URL on the real host (`default`) to the configured base."""
    if url == default or url.startswith(default + "/"):
        return base + url[len(default) :]
    return url


def _rebase_groups(obj: Any, default: str, base: str) -> None:
    """Point every API group with its own API_BASE_URL (wxa, datacube, merchant.*...) at base."""
    for value in list(vars(obj).values()):
        if isinstance(value, BaseWeChatAPI):
            own = getattr(value, "API_BASE_URL", None)
            if own:  # an instance attribute wins: BaseWeChatAPI reads it with getattr
                value.API_BASE_URL = _rebase(own, default, base)
            _rebase_groups(value, default, base)


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(*args, **kwargs)


class _ManagedTokenMixin:
    """Configured base URL, shared token storage, one fetch at a time, one refresh per call."""

    DEFAULT_BASE = WECHAT_DEFAULT_BASE
    TOKEN_PATH = "/cgi-bin/token"
    RETRY_ERRCODES = TOKEN_ERRCODES

    def __init__(self, app_id: str, secret: str, *, base: str = "", redis=None, prefix: str):
        session = _storage(redis, prefix)
        super().__init__(app_id, secret, session=session, timeout=HTTP_TIMEOUT, auto_retry=False)
        self.api_base = (base or self.DEFAULT_BASE).rstrip("/")
        self.API_BASE_URL = self.api_base + "/cgi-bin/"
        self._redis = redis
        self._lock_name = f"{prefix}:lock:{self.access_token_key}"
        self._http = _TimeoutSession(HTTP_TIMEOUT)  # the token fetch passes no timeout at all
        _rebase_groups(self, self.DEFAULT_BASE, self.api_base)

    def _token_params(self) -> dict[str, str]:
        raise NotImplementedError

    def fetch_access_token(self) -> dict:
        """Fetch a token from the configured base (wechatpy hard-codes the real host)."""
        url = self.api_base + self.TOKEN_PATH
        result = self._fetch_access_token(url=url, params=self._token_params())
        ttl = max(int(result.get("expires_in", 7200)) - REFRESH_MARGIN, 60)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        return result

    @property
    def access_token(self) -> str:
        """The shared token; fetched (by one process only) when missing or about to expire."""
        return self.session.get(self.access_token_key) or self._fresh_token()

    def _fresh_token(self, stale: str | None = None) -> str:
        """Fetch a token unless, once we hold the lock, storage has one other than `stale`."""
        with self._token_lock():
            token = self.session.get(self.access_token_key)
            if token and token != stale:
                return token  # another thread/process fetched it while we waited
            return self.fetch_access_token()["access_token"]

    @contextmanager
    def _token_lock(self) -> Iterator[None]:
        """Serialise token fetches: threads by a local lock, processes by a Redis lock."""
        with _shared(_local_locks, self._lock_name, threading.Lock):
            if self._redis is None:
                yield
                return
            lock = self._redis.lock(
                self._lock_name, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT
            )
            acquired = lock.acquire()  # False after LOCK_WAIT: fetch anyway rather than fail
            try:
                yield
            finally:
                if acquired:
                    with suppress(LockError):  # expired during a slow fetch: not ours any more
                        lock.release()

    def _request(self, method, url_or_endpoint, **kwargs):
        url = self._full_url(url_or_endpoint, kwargs.pop("api_base_url", None))
        params = kwargs.pop("params", None)
        params = {} if params is None else params
        if not isinstance(params, dict) or "access_token" in params:
            # the caller manages the token, or the API needs none (access_token=None)
            return super()._request(method, url, params=params, **kwargs)
        used = self.access_token
        try:
            return super()._request(method, url, params={**params, "access_token": used}, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in self.RETRY_ERRCODES:
                raise
            logger.info("errcode %s from %s: refreshing the token once", exc.errcode, url)
        fresh = self._fresh_token(stale=used)
        for value in (kwargs.get("files") or {}).values():  # the first try read the uploads
            getattr(value[1] if isinstance(value, tuple) else value, "seek", lambda _: None)(0)
        return super()._request(method, url, params={**params, "access_token": fresh}, **kwargs)

    def _full_url(self, url_or_endpoint: str, group_base: str | None) -> str:
        if not url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = (group_base or self.API_BASE_URL) + url_or_endpoint
        return _rebase(url_or_endpoint, self.DEFAULT_BASE, self.api_base)


class _Wxa(WeChatWxa):
    def code_to_session(self, js_code: str) -> dict:
        """jscode2session needs no access_token, but 1.8.18 would fetch and send one."""
        params = {"appid": self.appid, "secret": self.secret, "js_code": js_code}
        # access_token=None: requests drops it from the URL, and wechatpy then adds no token
        params.update(grant_type="authorization_code", access_token=None)
        return self._get("sns/jscode2session", params=params)


class WeChatApiClient(_ManagedTokenMixin, WeChatClient):
    """Official account or mini program client (same token API, different appid)."""

    wxa = _Wxa()

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}


class WeComApiClient(_ManagedTokenMixin, WeComClient):
    """WeCom client; each secret (self-built app, customer contact) has its own token."""

    DEFAULT_BASE = WECOM_DEFAULT_BASE
    TOKEN_PATH = "/cgi-bin/gettoken"
    RETRY_ERRCODES = WECOM_TOKEN_ERRCODES

    def __init__(self, corp_id: str, secret: str, *, agent_id: int | None = None, **kwargs):
        super().__init__(corp_id, secret, **kwargs)
        self.agent_id = agent_id  # message.send needs it; None for the contact client

    @property
    def access_token_key(self) -> str:
        # wechatpy keys by secret[:10]: secrets sharing a prefix would share a token, and the
        # key would reveal part of the secret. A digest has neither problem.
        digest = hashlib.sha256(self.secret.encode()).hexdigest()[:16]
        return f"{self.corp_id}_{digest}_access_token"

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}


def _storage(redis, prefix: str):
    if redis is None:
        return _shared(_memory_stores, prefix, _TTLMemoryStorage)
    return RedisStorage(redis, prefix=prefix)


def _require(settings: Settings, name: str) -> str:
    value = settings.get(name)
    if not value:
        raise WeChatConfigError(f"{name} is not configured")
    return str(value)


def _build_wechat(settings: Settings, redis, kind: str) -> WeChatApiClient:
    return WeChatApiClient(
        _require(settings, f"WECHAT_{kind.upper()}_APPID"),
        _require(settings, f"WECHAT_{kind.upper()}_SECRET"),
        base=settings.get("WECHAT_API_BASE") or WECHAT_DEFAULT_BASE,
        redis=redis,
        prefix=f"wechat:token:{kind}",
    )


def build_mp_client(settings: Settings, redis=None) -> WeChatApiClient:
    """The official account (公众号) client."""
    return _build_wechat(settings, redis, "mp")


def build_mini_client(settings: Settings, redis=None) -> WeChatApiClient:
    """The mini program client (`client.wxa.code_to_session`, subscribe messages, wxa codes)."""
    return _build_wechat(settings, redis, "mini")


def build_wecom_client(settings: Settings, redis=None, contact: bool = False) -> WeComApiClient:
    """The WeCom self-built app client, or with contact=True the customer-contact client."""
    secret_name = "WECOM_CONTACT_SECRET" if contact else "WECOM_SECRET"
    agent = str(settings.get("WECOM_AGENT_ID") or "").strip()
    return WeComApiClient(
        _require(settings, "WECOM_CORP_ID"),
        _require(settings, secret_name),
        agent_id=int(agent) if agent.isdigit() and not contact else None,
        base=settings.get("WECOM_API_BASE") or WECOM_DEFAULT_BASE,
        redis=redis,
        prefix="wecom:token:contact" if contact else "wecom:token:app",
    )


def _app_client(kind: str, builder):
    """Build once per Flask app, with the app's Redis (None: per-process memory)."""
    from flask import current_app

    clients = current_app.extensions.setdefault("wechat_clients", {})
    client = clients.get(kind)
    if client is None:
        from app.core.redis_client import get_redis

        client = clients[kind] = builder(current_app.config, redis=get_redis())
    return client


def mp_client() -> WeChatApiClient:
    return _app_client("mp", build_mp_client)


def mini_client() -> WeChatApiClient:
    return _app_client("mini", build_mini_client)


def wecom_client() -> WeComApiClient:
    return _app_client("wecom", build_wecom_client)


def wecom_contact_client() -> WeComApiClient:
    return _app_client("wecom_contact", partial(build_wecom_client, contact=True))


def mp_oauth(redirect_uri: str, state: str = "") -> WeChatOAuth:
    """The official account's web OAuth (网页授权, scope snsapi_base): the authorize page at
    WECHAT_OAUTH_BASE (open.weixin.qq.com), the code exchange at WECHAT_API_BASE, both
    settings so tests use the fake server; requests time out after HTTP_TIMEOUT."""
    from flask import current_app

    settings = current_app.config
    oauth = WeChatOAuth(
        _require(settings, "WECHAT_MP_APPID"),
        _require(settings, "WECHAT_MP_SECRET"),
        redirect_uri,
        scope="snsapi_base",
        state=state,
    )
    oauth.OAUTH_BASE_URL = settings["WECHAT_OAUTH_BASE"].rstrip("/") + "/connect/"
    oauth.API_BASE_URL = (settings.get("WECHAT_API_BASE") or WECHAT_DEFAULT_BASE).rstrip("/") + "/"
    oauth._http = _TimeoutSession(HTTP_TIMEOUT)
    return oauth

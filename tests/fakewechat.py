"""A fake WeChat / WeCom server API: a real HTTP server on loopback for tests and benchmarks.

    fake = FakeWeChat().start()                  # http://127.0.0.1:<random port>
    settings = fake_settings(fake.url)           # env-style settings pointing at the fake
    fake.fail_next("/cgi-bin/user/info", 40001)  # next call answers 40001, then normal
    fake.count("/cgi-bin/token")                 # requests seen on a path
    fake.stop()

By hand:  python -m tests.fakewechat --port 8099   (prints the env variables to export)

Other processes (gunicorn, RQ workers) control it over HTTP: POST /_fake/<method> with
{"args": [...], "kwargs": {...}} calls that FakeWeChat method (see CONTROL_METHODS) and answers
{"result": ...}; FakeWeChatRemote(url) wraps this. Shapes and error codes follow
tests/fixtures/wechat/api_*.json (the documented samples).

Adding an endpoint is one function:

    @default_route("POST", "/cgi-bin/message/send", auth="wecom")
    def message_send(fake, req): return {"errcode": 0, "errmsg": "ok", "invaliduser": ""}

A handler gets (fake, FakeRequest) and returns a dict (JSON, HTTP 200) or a Reply.
auth: "mp" (official account / mini program token), "wecom", or None (no token needed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import threading
import time
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

MP_APPID, MP_SECRET = "wxfake0000000000mp", "fake-mp-secret-000000000000000001"
MINI_APPID, MINI_SECRET = "wxfake00000000mini", "fake-mini-secret-0000000000000001"
CORP_ID, AGENT_ID = "wwfake00000000corp", "1000002"
# Both WeCom secrets share their first 10 characters on purpose: wechatpy keys tokens by
# secret[:10], so a client that did not fix that would mix the two tokens up.
WECOM_SECRET = "fake-wecom-app-secret-00000000000000000001"
WECOM_CONTACT_SECRET = "fake-wecom-contact-secret-000000000000001"
DEFAULT_OPENID, DEFAULT_UNIONID = "oFakeUser000000000000000001", "uFakeUnion0000000000000001"
DEFAULT_EXTERNAL_USERID = "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"  # the doc example's customer

ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40032: "invalid openid list size",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    40037: "invalid template_id",
    40056: "invalid agentid",
    43004: "require subscribe hint",
    43101: "user refuse to accept the msg",
    45015: "response out of time limit or subscription is canceled hint",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
    81013: "user & party & tag all invalid",
    60011: "no privilege to access/modify contact/party/agent",
    84061: "not external contact",
}
TOKEN_TTL = 7200

# Methods callable over HTTP (POST /_fake/<name>) and through FakeWeChatRemote.
CONTROL_METHODS = frozenset(
    {
        "script",
        "fail_next",
        "fail_always",
        "busy",
        "http_error",
        "set_delay",
        "clear_script",
        "reset",
        "expire_tokens",
        "tokens",
        "requests",
        "count",
        "add_app",
        "add_corp_secret",
        "add_user",
        "add_contact",
        "add_js_code",
        "sent_messages",
        "refuse",
        "silence",
        "oauth_as",
    }
)


def error_body(code: int, errmsg: str | None = None) -> dict:
    """A WeChat error body."""
    return {"errcode": code, "errmsg": errmsg or ERRMSGS.get(code, "error")}


@dataclass
class Reply:
    """A non-default response: any status, JSON or raw body."""

    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes/str -> as is
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Location of a redirect


@dataclass
class Token:
    value: str
    kind: str  # "mp" (official account and mini program) or "wecom"
    owner: str  # appid or corpid
    secret: str
    expires_at: float
    superseded_at: float | None = None


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    json: Any
    headers: dict[str, str]
    time: float
    token: Token | None = None
    record: dict = field(default_factory=dict)


@dataclass
class Route:
    handler: Callable[[FakeWeChat, FakeRequest], Any]
    auth: str | None = None


DEFAULT_ROUTES: dict[tuple[str, str], Route] = {}


def default_route(method: str, path: str, auth: str | None = None):
    """Register a handler on every FakeWeChat created afterwards."""

    def register(handler):
        DEFAULT_ROUTES[(method.upper(), path)] = Route(handler, auth)
        return handler

    return register


class FakeWeChat:
    """The fake server and its state; every public method is thread-safe."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> None:
        self.host, self.port, self.quiet = host, port, quiet
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._ids = itertools.count(1)
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeWeChat:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget requests, scripts, delays, tokens, routes and data added; restore defaults."""
        with self.lock:
            self.routes = dict(DEFAULT_ROUTES)
            self.token_grace = 300.0  # a superseded official-account token works this long
            self.bad_secret_errcode = 40001  # wrong secret at /cgi-bin/token (40125 is newer)
            self._requests: list[dict] = []
            self._script: dict[str, deque] = defaultdict(deque)
            self._always: dict[str, Any] = {}
            self._delay: dict[str, float] = {}
            self._tokens: dict[str, Token] = {}
            self.apps = {MP_APPID: MP_SECRET, MINI_APPID: MINI_SECRET}
            self.corp_secrets: dict[tuple[str, str], dict] = {}
            self.users: dict[str, dict] = {}
            self.contacts: dict[str, dict] = {}
            self.js_codes: dict[str, dict] = {}
            self.used_codes: set[str] = set()
            self.sent: list[dict] = []  # messages that reached a user (after dedupe)
            self.client_msg_ids: dict[str, int] = {}
            self.refused: set[str] = set()  # openids without subscribe-message quota (43101)
            self.silent: set[str] = set()  # openids outside the 48-hour window (45015)
            self.oauth_user: dict | None = None  # who the "browser" is at /connect/oauth2
            self.oauth_codes: dict[str, dict] = {}  # web OAuth codes not yet exchanged
        self.add_corp_secret(CORP_ID, WECOM_SECRET, contact=False)
        self.add_corp_secret(CORP_ID, WECOM_CONTACT_SECRET, contact=True)
        self.add_user(DEFAULT_OPENID, nickname="张先生", unionid=DEFAULT_UNIONID)
        self.add_contact(DEFAULT_EXTERNAL_USERID, name="李四", unionid=DEFAULT_UNIONID)

    def add_app(self, appid: str, secret: str) -> None:
        with self.lock:
            self.apps[appid] = secret

    def add_corp_secret(self, corpid: str, secret: str, contact: bool = False) -> None:
        """contact=True: tokens of this secret may call the externalcontact APIs."""
        with self.lock:
            self.corp_secrets[(corpid, secret)] = {"contact": contact}

    def add_user(self, openid: str, **fields: Any) -> dict:
        """An official-account follower for /cgi-bin/user/info (fields override defaults)."""
        user = {
            "subscribe": 1,
            "openid": openid,
            "nickname": "微信用户",
            "sex": 0,
            "language": "zh_CN",
            "city": "",
            "province": "",
            "country": "",
            "headimgurl": "",
            "subscribe_time": 1700000000,
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE",
            "qr_scene": 0,
            "qr_scene_str": "",
        }
        user.update(fields)
        with self.lock:
            self.users[openid] = user
        return user

    def add_contact(self, external_userid: str, follow_user: list | None = None, **fields) -> dict:
        """A WeCom customer for /cgi-bin/externalcontact/get (fields go to external_contact)."""
        contact = {"external_userid": external_userid, "name": "客户", "type": 1, "gender": 0}
        contact.update(fields)
        if follow_user is None:
            follow_user = [
                {
                    "userid": "rep01",
                    "remark": "",
                    "description": "",
                    "createtime": 1700000000,
                    "tags": [],
                    "remark_mobiles": [],
                    "add_way": 1,
                    "oper_userid": "rep01",
                    "state": "",
                }
            ]
        with self.lock:
            self.contacts[external_userid] = {
                "external_contact": contact,
                "follow_user": follow_user,
            }
        return contact

    def add_js_code(self, code: str, openid: str, session_key: str | None = None, unionid=None):
        """A wx.login code for /sns/jscode2session; single use like the real one."""
        session = {"openid": openid, "session_key": session_key or secrets.token_urlsafe(16)}
        if unionid:
            session["unionid"] = unionid
        with self.lock:
            self.js_codes[code] = session
        return session

    def oauth_as(self, openid: str | None, unionid: str | None = None, snapshot=False) -> None:
        """The WeChat user whose browser opens /connect/oauth2/authorize from now on (None:
        a browser outside WeChat). snapshot=True: a 朋友圈 snapshot-page user, whose openid
        the exchange marks with is_snapshotuser=1."""
        with self.lock:
            self.oauth_user = (
                {"openid": openid, "unionid": unionid, "snapshot": snapshot} if openid else None
            )

    def refuse(self, openid: str) -> None:
        """subscribe/send to this openid answers 43101 (no one-time subscription left)."""
        with self.lock:
            self.refused.add(openid)

    def silence(self, openid: str) -> None:
        """custom/send to this openid answers 45015 (no message from them for 48 hours)."""
        with self.lock:
            self.silent.add(openid)

    def deliver(self, path: str, body: dict) -> int:
        """Record a message as delivered to its user; returns its msgid."""
        with self.lock:
            msgid = 1_000_000 + len(self.sent)
            self.sent.append(
                {"path": path, "msgid": msgid, "touser": body.get("touser"), "body": body}
            )
            return msgid

    def sent_messages(self, path: str | None = None) -> list[dict]:
        """Messages delivered (a deduplicated resend is not one)."""
        with self.lock:
            return [dict(m) for m in self.sent if path is None or m["path"] == path]

    # -- behaviour ----------------------------------------------------------------------
    def route(self, method: str, path: str, handler, auth: str | None = None) -> None:
        """Add or replace an endpoint on this server."""
        with self.lock:
            self.routes[(method.upper(), path)] = Route(handler, auth)

    def script(self, path: str, responses: list) -> None:
        """Queue responses for the next requests to path (any method), before token checks.

        Items: "ok"/None = normal handling; dict = JSON body; int >= 100 = that HTTP status;
        Reply = as is; callable(fake, req) = its result.
        """
        with self.lock:
            self._script[path].extend(responses)

    def fail_next(self, path: str, errcode: int, times: int = 1, errmsg: str | None = None):
        """The next `times` requests to path answer errcode (then normal handling resumes)."""
        self.script(path, [error_body(errcode, errmsg)] * times)

    def fail_always(self, path: str, errcode: int, errmsg: str | None = None) -> None:
        """Every request to path answers errcode until reset() or clear_script(path)."""
        with self.lock:
            self._always[path] = error_body(errcode, errmsg)

    def busy(self, path: str, times: int = 1) -> None:
        self.fail_next(path, -1, times)

    def http_error(self, path: str, status: int = 500, times: int = 1) -> None:
        self.script(path, [status] * times)

    def set_delay(self, path: str, seconds: float) -> None:
        with self.lock:
            self._delay[path] = seconds

    def clear_script(self, path: str | None = None) -> None:
        with self.lock:
            for table in (self._script, self._always, self._delay):
                if path is None:
                    table.clear()
                else:
                    table.pop(path, None)

    def expire_tokens(self) -> None:
        """Every token issued so far answers 42001 from now on."""
        with self.lock:
            for token in self._tokens.values():
                token.expires_at = 0

    # -- inspection ---------------------------------------------------------------------
    def requests(self, path: str | None = None) -> list[dict]:
        """Recorded requests: method, path, query, json, headers, time, status, errcode."""
        with self.lock:
            return [dict(r) for r in self._requests if path is None or r["path"] == path]

    def count(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def tokens(self) -> list[str]:
        with self.lock:
            return list(self._tokens)

    # -- tokens -------------------------------------------------------------------------
    def issue_token(self, kind: str, owner: str, secret: str) -> Token:
        with self.lock:
            now = time.time()
            for old in self._tokens.values():
                if (old.kind, old.owner, old.secret) == (kind, owner, secret):
                    if kind == "wecom" and old.expires_at > now and old.superseded_at is None:
                        return old  # WeCom hands out the same token while it is valid
                    old.superseded_at = old.superseded_at or now
            value = f"FAKE_{kind.upper()}_{next(self._ids)}_{secrets.token_hex(8)}"
            token = Token(value, kind, owner, secret, now + TOKEN_TTL)
            self._tokens[value] = token
            return token

    def check_token(self, req: FakeRequest, kind: str) -> dict | None:
        """None if the request's access_token is good for `kind`, else the error body."""
        value = req.query.get("access_token")
        if not value:
            return error_body(41001)
        with self.lock:
            token = self._tokens.get(value)
        if token is None or token.kind != kind:
            return error_body(40014)
        now = time.time()
        if token.expires_at <= now:
            return error_body(42001)
        if token.superseded_at is not None and now - token.superseded_at > self.token_grace:
            return error_body(40001)
        req.token = token
        return None

    # -- dispatch -----------------------------------------------------------------------
    def handle(self, req: FakeRequest) -> Reply:
        with self.lock:
            self._requests.append(req.record)
            delay = self._delay.get(req.path, 0)
            queued = self._script.get(req.path)
            item = queued.popleft() if queued else self._always.get(req.path, "ok")
        if delay:
            time.sleep(delay)
        if item not in ("ok", None):
            return _as_reply(item(self, req) if callable(item) else item)
        route = self.routes.get((req.method, req.path))
        if route is None:
            return Reply(404, error_body(404, f"fake has no {req.method} {req.path}"))
        if route.auth:
            error = self.check_token(req, route.auth)
            if error:
                return Reply(200, error)
        return _as_reply(route.handler(self, req))

    def control(self, name: str, args: list, kwargs: dict) -> Any:
        if name not in CONTROL_METHODS:
            raise KeyError(name)
        return getattr(self, name)(*args, **kwargs)


def _as_reply(item: Any) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, int):
        return Reply(item, f"fake HTTP {item}".encode(), "text/plain")
    return Reply(200, item)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWeChat
    protocol_version = "HTTP/1.1"  # keep-alive: benchmarks reuse connections

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if not self.fake.quiet:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path.startswith("/_fake/"):
            return self._control(parts.path[len("/_fake/") :], query, body)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = FakeRequest(
            self.command, parts.path, query, body, parsed, dict(self.headers), time.time()
        )
        req.record.update(
            method=req.method,
            path=req.path,
            query=query,
            json=parsed,
            headers=req.headers,
            time=req.time,
        )
        try:
            reply = self.fake.handle(req)
        except Exception as exc:  # a broken handler must show up in the test, not hang it
            reply = Reply(500, error_body(500, f"fake handler error: {exc!r}"))
        errc = reply.body.get("errcode", 0) if isinstance(reply.body, dict) else None
        with self.fake.lock:
            req.record.update(status=reply.status, errcode=errc)
        self._send(reply)

    def _control(self, name: str, query: dict, body: bytes) -> None:
        try:
            payload = json.loads(body) if body else {"kwargs": query}
            if not {"args", "kwargs"} & payload.keys():
                payload = {"kwargs": payload}  # plain keyword arguments
            result = self.fake.control(name, payload.get("args", []), payload.get("kwargs", {}))
            self._send(Reply(200, {"result": result}))
        except KeyError:
            self._send(Reply(404, {"error": f"unknown control {name!r}"}))
        except (TypeError, ValueError) as exc:
            self._send(Reply(400, {"error": repr(exc)}))

    def _send(self, reply: Reply) -> None:
        body = reply.body
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body, ensure_ascii=False)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(reply.status)
        self.send_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeWeChatRemote:
    """Drive a FakeWeChat in another process: FakeWeChatRemote(url).fail_next(path, 40001)."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def __getattr__(self, name: str):
        if name not in CONTROL_METHODS:
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, list(args), kwargs)

    def _call(self, name: str, args: list, kwargs: dict) -> Any:
        data = json.dumps({"args": args, "kwargs": kwargs}).encode()
        request = urllib.request.Request(f"{self.url}/_fake/{name}", data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())["result"]


def fake_settings(url: str) -> dict[str, str]:
    """Settings (env variable names) for the test apps, with both API bases at `url`."""
    return {
        "WECHAT_API_BASE": url,
        "WECOM_API_BASE": url,
        "WECHAT_MP_APPID": MP_APPID,
        "WECHAT_MP_SECRET": MP_SECRET,
        "WECHAT_MINI_APPID": MINI_APPID,
        "WECHAT_MINI_SECRET": MINI_SECRET,
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_SECRET": WECOM_SECRET,
        "WECOM_AGENT_ID": AGENT_ID,
        "WECOM_CONTACT_SECRET": WECOM_CONTACT_SECRET,
    }


# -- default endpoints --------------------------------------------------------------------
@default_route("GET", "/cgi-bin/token")
def mp_token(fake: FakeWeChat, req: FakeRequest):
    q = req.query
    if q.get("grant_type") != "client_credential":
        return error_body(40002)
    if not q.get("secret"):
        return error_body(41004)
    if q.get("appid") not in fake.apps:
        return error_body(40013)
    if fake.apps[q["appid"]] != q["secret"]:
        wrong = {40001: "invalid credential, AppSecret error or does not belong to this appid"}
        return error_body(fake.bad_secret_errcode, wrong.get(fake.bad_secret_errcode))
    token = fake.issue_token("mp", q["appid"], q["secret"])
    return {"access_token": token.value, "expires_in": TOKEN_TTL}


@default_route("GET", "/cgi-bin/gettoken")
def wecom_gettoken(fake: FakeWeChat, req: FakeRequest):
    corpid, secret = req.query.get("corpid", ""), req.query.get("corpsecret", "")
    if not any(c == corpid for c, _ in fake.corp_secrets):
        return error_body(40013, "invalid corpid")
    if (corpid, secret) not in fake.corp_secrets:
        return error_body(40001, "invalid secret")
    token = fake.issue_token("wecom", corpid, secret)
    remaining = int(token.expires_at - time.time())
    return {"errcode": 0, "errmsg": "ok", "access_token": token.value, "expires_in": remaining}


@default_route("GET", "/cgi-bin/user/info", auth="mp")
def mp_user_info(fake: FakeWeChat, req: FakeRequest):
    user = fake.users.get(req.query.get("openid", ""))
    return dict(user) if user else error_body(40003)


@default_route("POST", "/cgi-bin/user/info/batchget", auth="mp")
def mp_user_batchget(fake: FakeWeChat, req: FakeRequest):
    """Official-account users in bulk (api_mp_user_batchget.json): 1 to 100 openids (40032
    otherwise), one unknown openid fails the whole call (40003), a user who does not follow
    comes back as {"subscribe": 0, "openid"}."""
    items = req.json.get("user_list") if isinstance(req.json, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(item, dict) and isinstance(item.get("openid"), str) for item in items
    ):
        return error_body(47001)
    if not 0 < len(items) <= 100:
        return error_body(40032)
    found = []
    for item in items:
        user = fake.users.get(item["openid"])
        if user is None:
            return error_body(40003)
        found.append(
            dict(user) if user.get("subscribe") else {"subscribe": 0, "openid": user["openid"]}
        )
    return {"user_info_list": found}


@default_route("GET", "/sns/jscode2session")
def mini_code2session(fake: FakeWeChat, req: FakeRequest):
    session, error = exchange_code(fake, req.query, fake.js_codes, "js_code")
    return error or dict(session)  # success omits errcode, as the real API usually does


def exchange_code(fake: FakeWeChat, q: dict, codes: dict, name: str) -> tuple[dict, dict | None]:
    """An authorization_code exchange (jscode2session, web OAuth): (what the code was issued
    for, None), or ({}, the error body). A code works once (40163), and only for its app."""
    if q.get("grant_type") != "authorization_code":
        return {}, error_body(40002)
    if q.get("appid") not in fake.apps:
        return {}, error_body(40013)
    if fake.apps[q["appid"]] != q.get("secret"):
        return {}, error_body(40125)
    code = q.get(name, "")
    with fake.lock:
        if code in fake.used_codes:
            return {}, error_body(40163)
        grant = codes.pop(code, None)
        if grant is None or grant.get("appid", q["appid"]) != q["appid"]:
            return {}, error_body(40029)
        fake.used_codes.add(code)
    return grant, None


@default_route("GET", "/cgi-bin/externalcontact/get", auth="wecom")
def wecom_externalcontact_get(fake: FakeWeChat, req: FakeRequest):
    if not fake.corp_secrets.get((req.token.owner, req.token.secret), {}).get("contact"):
        return error_body(60011)
    found = fake.contacts.get(req.query.get("external_userid", ""))
    if found is None:
        return error_body(84061)
    return {"errcode": 0, "errmsg": "ok", **json.loads(json.dumps(found)), "next_cursor": ""}


OAUTH_SCOPES = ("snsapi_base", "snsapi_userinfo")


@default_route("GET", "/connect/oauth2/authorize")
def oauth_authorize(fake: FakeWeChat, req: FakeRequest):
    """网页授权: WeChat's browser is sent back to redirect_uri?code=CODE&state=STATE at once
    (snsapi_base asks nothing). Outside WeChat or with a bad request the real page shows
    an error; here that is a 400 with the errcode."""
    q = req.query
    if q.get("appid") not in fake.apps:
        return Reply(400, error_body(40013))
    if q.get("response_type") != "code" or q.get("scope") not in OAUTH_SCOPES:
        return Reply(400, error_body(10005, "invalid scope"))
    if not q.get("redirect_uri", "").startswith(("http://", "https://")):
        return Reply(400, error_body(10003, "redirect_uri domain mismatch"))
    with fake.lock:
        user = fake.oauth_user
        if user is None:
            return Reply(400, error_body(-1, "请在微信客户端打开链接"))
        code = f"oauth{next(fake._ids)}{secrets.token_hex(8)}"
        fake.oauth_codes[code] = {**user, "appid": q["appid"], "scope": q["scope"]}
    params = urlencode({"code": code, "state": q.get("state", "")})
    separator = "&" if "?" in q["redirect_uri"] else "?"
    location = f"{q['redirect_uri']}{separator}{params}"
    return Reply(302, b"", "text/plain", {"Location": location})


@default_route("GET", "/sns/oauth2/access_token")
def oauth_access_token(fake: FakeWeChat, req: FakeRequest):
    """The code of /connect/oauth2/authorize for its openid; single use (40163)."""
    grant, error = exchange_code(fake, req.query, fake.oauth_codes, "code")
    if error:
        return error
    body = {
        "access_token": f"FAKE_OAUTH_{secrets.token_hex(8)}",
        "expires_in": TOKEN_TTL,
        "refresh_token": f"FAKE_REFRESH_{secrets.token_hex(8)}",
        "openid": grant["openid"],
        "scope": grant["scope"],
    }
    if grant["snapshot"]:
        body["is_snapshotuser"] = 1
    if grant["unionid"]:
        body["unionid"] = grant["unionid"]
    return body


def add_phone_code(fake: FakeWeChat, code: str, phone: str, country: str = "86") -> None:
    """A getPhoneNumber code for /wxa/business/getuserphonenumber; single use."""
    with fake.lock:
        fake.js_codes[f"phone:{code}"] = {"phone": phone, "country": country}


@default_route("POST", "/wxa/business/getuserphonenumber", auth="mp")
def mini_user_phone(fake: FakeWeChat, req: FakeRequest):
    code = (req.json or {}).get("code", "") if isinstance(req.json, dict) else ""
    with fake.lock:
        found = fake.js_codes.pop(f"phone:{code}", None)
    if found is None:
        return error_body(40029)
    phone, country = found["phone"], found["country"]
    info = {
        "phoneNumber": f"+{country}{phone}",
        "purePhoneNumber": phone,
        "countryCode": country,
        "watermark": {"timestamp": int(time.time()), "appid": req.token.owner},
    }
    return {"errcode": 0, "errmsg": "ok", "phone_info": info}


# A 1×1 PNG: what wxacode.getUnlimited answers in place of a real mini-program code.
FAKE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
SCENE_CHARS = set(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$&'()*+,/:;=?@-._~"
)


@default_route("POST", "/wxa/getwxacodeunlimit", auth="mp")
def wxacode_unlimited(fake: FakeWeChat, req: FakeRequest):
    """wxacode.getUnlimited: a PNG body on success, JSON only on error; the scene is 1-32
    visible characters of the documented set (40169 otherwise)."""
    body = req.json if isinstance(req.json, dict) else {}
    scene = body.get("scene")
    if not isinstance(scene, str) or not 0 < len(scene) <= 32 or set(scene) - SCENE_CHARS:
        return error_body(40169, "invalid length for scene, or the data is not json string")
    return Reply(200, FAKE_PNG, "image/png")


@default_route("POST", "/cgi-bin/qrcode/create", auth="mp")
def qrcode_create(fake: FakeWeChat, req: FakeRequest):
    """Parametric QR: QR_LIMIT_STR_SCENE (scene_str 1-64) or QR_STR_SCENE / QR_SCENE with
    expire_seconds; answers ticket, url (and expire_seconds for temporary codes)."""
    body = req.json if isinstance(req.json, dict) else {}
    action = body.get("action_name")
    scene = ((body.get("action_info") or {}).get("scene") or {}) if isinstance(body, dict) else {}
    if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
        return error_body(40097, "invalid args")
    text = scene.get("scene_str") if "STR" in action else scene.get("scene_id")
    if "STR" in action and (not isinstance(text, str) or not 0 < len(text) <= 64):
        return error_body(40097, "invalid args")
    with fake.lock:
        number = next(fake._ids)
    ticket = f"gQFake{number:08d}" + secrets.token_hex(8)
    answer = {"ticket": ticket, "url": f"http://weixin.qq.com/q/fake{number}"}
    if "LIMIT" not in action:
        answer["expire_seconds"] = int(body.get("expire_seconds") or 60)
    return answer


# Value rules of typed template keys (api_miniapp_subscribe_send.json "value_rules").
FIELD_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "name": 20,
    "car_number": 8,
    "phone_number": 17,
}


def bad_field(data: Any) -> str | None:
    """The first data key whose value breaks its type's rule (47003 names it), else None."""
    if not isinstance(data, dict) or not data:
        return "data"
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        kind = key.rstrip("0123456789")
        if not isinstance(value, str) or not value.strip():
            return key
        if len(value) > FIELD_LIMITS.get(kind, 200):
            return key
        if kind == "number" and not value.replace(".", "", 1).lstrip("-").isdigit():
            return key
    return None


def _message_errors(fake: FakeWeChat, body: Any, template: bool = True) -> dict | None:
    if not isinstance(body, dict) or not body.get("touser"):
        return error_body(40003)
    if template and not body.get("template_id"):
        return error_body(40037)
    bad = bad_field(body.get("data")) if template else None
    return error_body(47003, f"argument invalid! data.{bad}.value invalid") if bad else None


@default_route("POST", "/cgi-bin/message/subscribe/send", auth="mp")
def subscribe_send(fake: FakeWeChat, req: FakeRequest):
    """subscribeMessage.send: a one-time subscription is needed per message (43101)."""
    error = _message_errors(fake, req.json)
    if error:
        return error
    if req.json["touser"] in fake.refused:
        return error_body(43101)
    return {"errcode": 0, "errmsg": "ok", "msgid": fake.deliver(req.path, req.json)}


@default_route("POST", "/cgi-bin/message/template/send", auth="mp")
def template_send(fake: FakeWeChat, req: FakeRequest):
    """Official-account template message; a repeated client_msg_id is not delivered again
    (we answer ok with the first msgid: the doc only says client_msg_id deduplicates)."""
    body = req.json
    error = _message_errors(fake, body)
    if error:
        return error
    user = fake.users.get(body["touser"])
    if user is not None and not user.get("subscribe"):
        return error_body(43004)
    with fake.lock:
        first = fake.client_msg_ids.get(body.get("client_msg_id") or "")
        if first is not None:
            return {"errcode": 0, "errmsg": "ok", "msgid": first}
        msgid = fake.deliver(req.path, body)
        if body.get("client_msg_id"):
            fake.client_msg_ids[body["client_msg_id"]] = msgid
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


@default_route("POST", "/cgi-bin/message/custom/send", auth="mp")
def custom_send(fake: FakeWeChat, req: FakeRequest):
    """Customer-service message: only within 48 hours of the user's last message (45015)."""
    error = _message_errors(fake, req.json, template=False)
    if error:
        return error
    if req.json["touser"] in fake.silent:
        return error_body(45015)
    fake.deliver(req.path, req.json)
    return {"errcode": 0, "errmsg": "ok"}


@default_route("POST", "/cgi-bin/message/send", auth="wecom")
def wecom_message_send(fake: FakeWeChat, req: FakeRequest):
    """WeCom app message; enable_duplicate_check drops the same text to the same member."""
    body = req.json or {}
    if str(body.get("agentid")) != AGENT_ID:
        return error_body(40056)
    if not body.get("touser") or body["touser"].startswith("invalid"):
        return error_body(81013)
    with fake.lock:
        interval = body.get("duplicate_check_interval", 1800)
        for old in fake.sent:
            if (
                body.get("enable_duplicate_check")
                and old["path"] == req.path
                and old["body"] == body
                and req.time - old.get("time", 0) < interval
            ):
                return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": str(old["msgid"])}
        msgid = fake.deliver(req.path, body)
        fake.sent[-1]["time"] = req.time
    return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": str(msgid)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake WeChat / WeCom API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    opts = parser.parse_args(argv)
    fake = FakeWeChat(opts.host, opts.port, quiet=not opts.verbose).start()
    for name, value in fake_settings(fake.url).items():
        print(f"export {name}={value}")
    print(f"# fake WeChat API listening on {fake.url}; Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()

"""app.wechat against the fake WeChat/WeCom server: base URLs, shared tokens, one refresh."""

from __future__ import annotations

import multiprocessing
import socket
import threading
from contextlib import nullcontext

import flask
import pytest
import redis
import requests
import wechatpy
from wechatpy.client.api.base import BaseWeChatAPI

from app.core import wechat
from app.core.wechat import (
    WeChatClientException,
    WeChatConfigError,
    build_mini_client,
    build_mp_client,
    build_wecom_client,
    is_token_error,
    is_transient,
)
from tests.fakewechat import (
    CORP_ID,
    DEFAULT_EXTERNAL_USERID,
    DEFAULT_OPENID,
    DEFAULT_UNIONID,
    MINI_APPID,
    MINI_SECRET,
    MP_APPID,
    WECOM_CONTACT_SECRET,
    WECOM_SECRET,
    FakeWeChatRemote,
    error_body,
)
from tests.fixtures_wechat import TEST_REDIS_URL, NetworkGuardError

TOKEN, GETTOKEN = "/cgi-bin/token", "/cgi-bin/gettoken"
USER_INFO, EXTERNAL_GET = "/cgi-bin/user/info", "/cgi-bin/externalcontact/get"
CODE2SESSION = "/sns/jscode2session"


@pytest.fixture(
    params=[
        pytest.param(True, marks=pytest.mark.redis, id="redis"),
        pytest.param(False, id="memory"),
    ]
)
def store(request):
    """Run a test with the Redis token store and with the in-process memory store."""
    return request.getfixturevalue("wechat_redis") if request.param else None


def _error(call, *args) -> WeChatClientException:
    with pytest.raises(WeChatClientException) as info:
        call(*args)
    return info.value


def _user_info_in_subprocess(settings, redis_url, barrier, results) -> None:
    """One 'process' of the app: its own client, the shared Redis, a user/info call."""
    try:
        client = build_mp_client(settings, redis=redis.Redis.from_url(redis_url))
        barrier.wait(timeout=60)
        client.user.get(DEFAULT_OPENID)
        results.put(client.access_token)
    except Exception as exc:  # report instead of hanging the parent on results.get
        results.put(f"error: {exc!r}")


# -- one fetch for many callers -------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.slow
def test_three_processes_fetch_the_token_once(fake_wechat, wechat_settings, wechat_redis):
    fake_wechat.set_delay(TOKEN, 0.5)  # the others arrive while the first fetch is in flight
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    args = (wechat_settings, TEST_REDIS_URL, barrier, results)
    procs = [ctx.Process(target=_user_info_in_subprocess, args=args) for _ in range(3)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)

    assert fake_wechat.count(TOKEN) == 1
    assert got == fake_wechat.tokens() * 3
    used = [r["query"]["access_token"] for r in fake_wechat.requests(USER_INFO)]
    assert used == got
    assert wechat_redis.keys("*:lock:*") == []  # the fetch lock was released


def _concurrent_tokens(clients) -> list[str]:
    tokens: list[str] = []
    barrier = threading.Barrier(len(clients))

    def run(client):
        barrier.wait(timeout=10)
        tokens.append(client.access_token)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return tokens


def test_threads_fetch_the_token_once(fake_wechat, wechat_settings, store):
    fake_wechat.set_delay(TOKEN, 0.3)
    tokens = _concurrent_tokens([build_mp_client(wechat_settings, store) for _ in range(3)])
    assert fake_wechat.count(TOKEN) == 1
    assert len(tokens) == 3 and len(set(tokens)) == 1


def test_control_without_the_lock_every_caller_fetches(fake_wechat, wechat_settings, monkeypatch):
    """Shows the two tests above can fail: with no lock the fake sees three fetches."""
    monkeypatch.setattr(wechat._ManagedTokenMixin, "_token_lock", lambda self: nullcontext())
    fake_wechat.set_delay(TOKEN, 0.3)
    _concurrent_tokens([build_mp_client(wechat_settings) for _ in range(3)])
    assert fake_wechat.count(TOKEN) == 3


def test_clients_of_one_app_share_the_token_and_apps_do_not(fake_wechat, wechat_settings, store):
    first, second = build_mp_client(wechat_settings, store), build_mp_client(wechat_settings, store)
    assert first.access_token == second.access_token
    mini = build_mini_client(wechat_settings, store)
    assert mini.access_token != first.access_token
    assert [r["query"]["appid"] for r in fake_wechat.requests(TOKEN)] == [MP_APPID, MINI_APPID]


@pytest.mark.redis
def test_redis_token_expires_five_minutes_early(fake_wechat, wechat_settings, wechat_redis):
    assert build_mp_client(wechat_settings, redis=wechat_redis).access_token
    ttl = wechat_redis.ttl(f"wechat:token:mp:{MP_APPID}_access_token")
    assert 7200 - 300 - 5 <= ttl <= 7200 - 300


def test_memory_store_honours_ttl():
    store = wechat._TTLMemoryStorage()
    store.set("k", "v", ttl=0.05)
    assert store.get("k") == "v"
    threading.Event().wait(0.1)
    assert store.get("k") is None


# -- one refresh, never a retry storm -------------------------------------------------------


def test_mp_40001_refreshes_once_and_succeeds(fake_wechat, wechat_settings, store):
    client = build_mp_client(wechat_settings, store)
    stale = client.access_token
    fake_wechat.fail_next(USER_INFO, 40001)

    assert client.user.get(DEFAULT_OPENID)["unionid"] == DEFAULT_UNIONID
    assert fake_wechat.count(TOKEN) == 2
    calls = fake_wechat.requests(USER_INFO)
    assert [c["errcode"] for c in calls] == [40001, 0]
    assert calls[0]["query"]["access_token"] == stale
    assert calls[1]["query"]["access_token"] == client.access_token != stale
    # the new token is in the shared store: another client of the app does not fetch again
    assert build_mp_client(wechat_settings, store).access_token == client.access_token
    assert fake_wechat.count(TOKEN) == 2


def test_no_refetch_when_another_process_refreshed_meanwhile(fake_wechat, wechat_settings, store):
    client = build_mp_client(wechat_settings, store)
    other_process = build_mp_client(wechat_settings, store)
    stale = client.access_token

    def refreshed_elsewhere(fake, req):
        other_process.fetch_access_token()  # lands in the shared store while our call fails
        return error_body(40001)

    fake_wechat.script(USER_INFO, [refreshed_elsewhere])
    client.user.get(DEFAULT_OPENID)
    assert fake_wechat.count(TOKEN) == 2  # ours at the start and the other one; no third
    used = [r["query"]["access_token"] for r in fake_wechat.requests(USER_INFO)]
    assert used == [stale, fake_wechat.tokens()[1]]


@pytest.mark.parametrize("code", [42001, 40014, 40001])
def test_persistent_token_error_refreshes_once_then_raises(
    fake_wechat, wechat_settings, store, code
):
    client = build_mp_client(wechat_settings, store)
    fake_wechat.fail_always(USER_INFO, code)
    exc = _error(client.user.get, DEFAULT_OPENID)
    assert exc.errcode == code and is_token_error(exc)
    assert fake_wechat.count(USER_INFO) == 2  # wechatpy's auto_retry made 487, then crashed
    assert fake_wechat.count(TOKEN) == 2


def test_other_errors_are_not_retried(fake_wechat, wechat_settings):
    client = build_mp_client(wechat_settings)
    fake_wechat.busy(USER_INFO)
    assert _error(client.user.get, DEFAULT_OPENID).errcode == -1
    fake_wechat.http_error(USER_INFO, 502)
    exc = _error(client.user.get, DEFAULT_OPENID)
    assert exc.errcode is None and is_transient(exc) and not is_token_error(exc)
    assert _error(client.user.get, "oUnknown").errcode == 40003
    assert fake_wechat.count(USER_INFO) == 3 and fake_wechat.count(TOKEN) == 1


def test_mp_wrong_secret_fails_at_the_token_fetch(fake_wechat, wechat_settings):
    wechat_settings["WECHAT_MP_SECRET"] = "wrong-secret"
    exc = _error(build_mp_client(wechat_settings).user.get, DEFAULT_OPENID)
    assert exc.errcode == 40001
    assert fake_wechat.count(TOKEN) == 1 and fake_wechat.count(USER_INFO) == 0


def test_missing_settings_raise_config_error(wechat_settings):
    del wechat_settings["WECOM_CONTACT_SECRET"]
    with pytest.raises(WeChatConfigError, match="WECOM_CONTACT_SECRET"):
        build_wecom_client(wechat_settings, contact=True)


# -- WeCom ------------------------------------------------------------------------------------


def test_wecom_app_and_contact_clients_have_separate_tokens(fake_wechat, wechat_settings, store):
    app_client = build_wecom_client(wechat_settings, store)
    contact = build_wecom_client(wechat_settings, store, contact=True)

    detail = contact.external_contact.get(DEFAULT_EXTERNAL_USERID)
    assert detail["external_contact"]["name"] == "李四"
    app_token = app_client.access_token
    assert [r["query"] for r in fake_wechat.requests(GETTOKEN)] == [
        {"corpid": CORP_ID, "corpsecret": WECOM_CONTACT_SECRET},
        {"corpid": CORP_ID, "corpsecret": WECOM_SECRET},
    ]
    assert app_token != contact.access_token
    assert fake_wechat.requests(EXTERNAL_GET)[0]["query"]["access_token"] == contact.access_token
    # the app secret has no customer-contact permission at the fake: the tokens are not mixed up
    assert _error(app_client.external_contact.get, DEFAULT_EXTERNAL_USERID).errcode == 60011
    assert (app_client.agent_id, contact.agent_id) == (1000002, None)


@pytest.mark.redis
def test_wecom_token_keys_do_not_reveal_the_secret(fake_wechat, wechat_settings, wechat_redis):
    assert build_wecom_client(wechat_settings, wechat_redis).access_token
    assert build_wecom_client(wechat_settings, wechat_redis, contact=True).access_token
    keys = sorted(k.decode() for k in wechat_redis.keys("*"))
    assert [k.split(":")[2] for k in keys] == ["app", "contact"]
    assert not any(WECOM_SECRET[:10] in k for k in keys)


def test_wecom_40001_is_a_bad_secret_not_retried_but_42001_is(fake_wechat, wechat_settings):
    contact = build_wecom_client(wechat_settings, contact=True)
    fake_wechat.fail_next(EXTERNAL_GET, 40001)
    exc = _error(contact.external_contact.get, DEFAULT_EXTERNAL_USERID)
    assert exc.errcode == 40001 and not is_token_error(exc, wecom=True)
    assert fake_wechat.count(GETTOKEN) == 1 and fake_wechat.count(EXTERNAL_GET) == 1

    fake_wechat.expire_tokens()
    assert contact.external_contact.get(DEFAULT_EXTERNAL_USERID)["errcode"] == 0
    assert [r["errcode"] for r in fake_wechat.requests(EXTERNAL_GET)] == [40001, 42001, 0]
    assert fake_wechat.count(GETTOKEN) == 2


def test_wecom_wrong_secret_fails_at_gettoken(fake_wechat, wechat_settings):
    wechat_settings["WECOM_SECRET"] = "wrong-secret"
    exc = _error(lambda: build_wecom_client(wechat_settings).access_token)
    assert exc.errcode == 40001 and fake_wechat.count(GETTOKEN) == 1


# -- everything goes to the configured base ---------------------------------------------------


def test_every_call_stays_on_loopback(fake_wechat, wechat_settings, loopback_only):
    mp = build_mp_client(wechat_settings)
    mini = build_mini_client(wechat_settings)
    contact = build_wecom_client(wechat_settings, contact=True)

    assert mp.user.get(DEFAULT_OPENID)["nickname"] == "张先生"
    fake_wechat.add_js_code("code-1", "oMini1", session_key="sk1", unionid="u1")
    assert mini.wxa.code_to_session("code-1") == {
        "openid": "oMini1",
        "session_key": "sk1",
        "unionid": "u1",
    }
    assert _error(mini.wxa.code_to_session, "code-1").errcode == 40163  # single use
    assert _error(mini.wxa.code_to_session, "never-issued").errcode == 40029
    fake_wechat.add_js_code("code-2", "oMini2")
    fake_wechat.fail_next(CODE2SESSION, 45011)
    exc = _error(mini.wxa.code_to_session, "code-2")
    assert exc.errcode == 45011 and is_transient(exc)
    assert contact.external_contact.get(DEFAULT_EXTERNAL_USERID)["follow_user"][0]["userid"]
    assert _error(contact.external_contact.get, "wmNobody").errcode == 84061

    # login needs no access token: the mini program never fetched one nor sent one
    assert [r["query"]["appid"] for r in fake_wechat.requests(TOKEN)] == [MP_APPID]
    logins = fake_wechat.requests(CODE2SESSION)
    assert logins[0]["query"] == {
        "appid": MINI_APPID,
        "secret": MINI_SECRET,
        "js_code": "code-1",
        "grant_type": "authorization_code",
    }
    assert not any("access_token" in r["query"] for r in logins)
    assert fake_wechat.count() == 9


def test_the_guard_blocks_real_hosts(fake_wechat, wechat_settings, loopback_only):
    with pytest.raises(NetworkGuardError):
        requests.get("https://api.weixin.qq.com/cgi-bin/token", timeout=5)
    with pytest.raises(NetworkGuardError):
        socket.create_connection(("203.0.113.7", 443), timeout=1)
    # without the base settings our clients go to the real hosts, and the guard catches it
    real = {k: v for k, v in wechat_settings.items() if not k.endswith("_API_BASE")}
    with pytest.raises(NetworkGuardError):
        assert build_mp_client(real).access_token
    with pytest.raises(NetworkGuardError):
        assert build_wecom_client(real).access_token
    # the wechatpy trap: overriding only the client's API_BASE_URL still leaks code_to_session
    plain = wechatpy.WeChatClient(MINI_APPID, MINI_SECRET, access_token="preset")
    plain.API_BASE_URL = fake_wechat.url + "/cgi-bin/"
    with pytest.raises(NetworkGuardError):
        plain.wxa.code_to_session("code")
    assert fake_wechat.count() == 0


def _group_bases(obj, prefix=""):
    bases = {}
    for name, value in vars(obj).items():
        if isinstance(value, BaseWeChatAPI):
            if getattr(value, "API_BASE_URL", None):
                bases[prefix + name] = value.API_BASE_URL
            bases.update(_group_bases(value, f"{prefix}{name}."))
    return bases


def test_api_groups_and_hard_coded_urls_use_the_base(fake_wechat, wechat_settings, loopback_only):
    client = build_mp_client(wechat_settings)
    bases = _group_bases(client)
    assert {"wxa", "datacube", "card", "cloud", "merchant.order", "marketing"} <= set(bases)
    assert all(url.startswith(fake_wechat.url + "/") for url in bases.values()), bases
    assert bases["datacube"] == fake_wechat.url + "/datacube/"

    def summary(fake, req):
        return {"list": [{"ref_date": req.json["begin_date"], "new_user": 3}]}

    fake_wechat.route("POST", "/datacube/getusersummary", summary, auth="mp")
    fake_wechat.route("POST", "/customservice/kfaccount/add", lambda f, r: error_body(0), auth="mp")
    assert client.datacube.get_user_summary("2024-05-01", "2024-05-01")[0]["new_user"] == 3
    client.customservice.add_account("kf1@test", "小美", "pw")  # an absolute URL in wechatpy
    assert fake_wechat.requests("/customservice/kfaccount/add")[0]["json"]["nickname"] == "小美"


# -- helpers, the HTTP control API, the Flask accessors ---------------------------------------


def test_error_helpers():
    assert is_token_error(WeChatClientException(40001, "x"))
    assert not is_token_error(WeChatClientException(40001, "x"), wecom=True)
    assert is_token_error(WeChatClientException(42001, "x"), wecom=True)
    assert not is_token_error(ValueError())
    assert is_transient(WeChatClientException(-1, "busy"))
    assert is_transient(requests.ConnectionError())
    assert is_transient(redis.ConnectionError())
    assert not is_transient(WeChatClientException(40029, "invalid code"))


def test_remote_control_over_http(fake_wechat, wechat_settings):
    remote = FakeWeChatRemote(fake_wechat.url)
    remote.fail_next(USER_INFO, 40003)
    remote.add_user("oRemote", nickname="王女士")
    client = build_mp_client(wechat_settings)
    assert _error(client.user.get, "oRemote").errcode == 40003
    assert client.user.get("oRemote")["nickname"] == "王女士"
    assert remote.count(USER_INFO) == 2
    assert [r["errcode"] for r in remote.requests(path=USER_INFO)] == [40003, 0]
    remote.reset()
    assert fake_wechat.count() == 0


def test_flask_accessors_cache_one_client_per_app(fake_wechat, wechat_settings):
    flask_app = flask.Flask("wechat-test")
    flask_app.config.update(wechat_settings)
    with flask_app.app_context():
        assert wechat.mp_client() is wechat.mp_client()
        assert wechat.mini_client().appid == MINI_APPID
        assert wechat.wecom_client().secret == WECOM_SECRET
        assert wechat.wecom_contact_client().secret == WECOM_CONTACT_SECRET
        assert wechat.mp_client().api_base == fake_wechat.url
        assert wechat.mp_client().user.get(DEFAULT_OPENID)["openid"] == DEFAULT_OPENID
    other_app = flask.Flask("wechat-test-2")
    other_app.config.update(wechat_settings)
    with other_app.app_context():
        assert wechat.mp_client() is not flask_app.extensions["wechat_clients"]["mp"]

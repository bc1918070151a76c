"""Forged callbacks (issue 12, item 6): plaintext to a safe-mode account, and old signatures.

In plain mode the signature covers the token, timestamp and nonce, never the body: whoever
has seen one signed URL (a log, a proxy) can attach any body to it. Two defences: an
account configured with an EncodingAESKey takes only encrypted posts (whose msg_signature
covers the body), and no callback is accepted with a timestamp further than
CALLBACK_MAX_AGE seconds from now.
"""

import time

import pytest

from app import create_app
from tests import wxsign
from tests.conftest import env_for_tests
from tests.inbound.callback_helpers import (
    BUILD,
    MODES,
    callback_events,
    mp_text,
    post,
    stored_rows,
    timeline,
)

COMPLAINT = mp_text("你们的施工队把我家墙砸坏了，我要投诉！", msg_id="31337")


def _app(**settings):
    """The production shape: with an AES key and no plaintext allowance, unless given."""
    env = env_for_tests(**settings)
    if "WECHAT_MP_ACCEPT_PLAIN" not in settings:
        env["WECHAT_MP_ACCEPT_PLAIN"] = "false"
    return create_app(env).test_client()


def test_a_plaintext_post_to_a_safe_mode_account_is_refused(ctx):
    client = _app()
    response = post(client, wxsign.mp_plain(COMPLAINT))
    assert response.status_code == 403 and b"plaintext" in response.data
    assert stored_rows() == 0
    assert post(client, wxsign.mp_safe(COMPLAINT)).status_code == 200


def test_both_modes_are_taken_while_switching_when_allowed(ctx):
    client = _app(WECHAT_MP_ACCEPT_PLAIN="true")
    assert post(client, wxsign.mp_plain(COMPLAINT)).status_code == 200
    assert post(client, wxsign.mp_safe(mp_text("加密的", msg_id="2"))).status_code == 200
    assert len(timeline("message")) == 2


def test_a_plain_mode_account_takes_plaintext(ctx):
    client = _app(WECHAT_MP_AES_KEY="")
    assert post(client, wxsign.mp_plain(COMPLAINT)).status_code == 200


def _ago(seconds: int) -> str:
    return str(int(time.time()) - seconds)


STALE = [_ago(3600), _ago(365 * 86400), _ago(-3600), "0", "1e9", "17000000001700000000", "", "²"]


@pytest.mark.parametrize("mode", MODES)
def test_a_signed_post_with_a_stale_or_bad_timestamp_is_refused(client, mode):
    """A year-old logged URL (or one from the future) carries no message into a timeline."""
    for ts in STALE:
        response = post(client, BUILD[mode](COMPLAINT, ts=ts))
        assert (response.status_code, b"timestamp" in response.data) == (403, True), ts
    assert stored_rows() == 0


def test_a_wecom_post_with_a_stale_timestamp_is_refused(client):
    for ts in STALE[:3]:
        path, body = wxsign.work_post(wxsign.fixture("work_external_contact_add.xml"), ts=ts)
        response = client.post(path, data=body)
        assert (response.status_code, b"timestamp" in response.data) == (403, True), ts
    assert stored_rows() == 0


@pytest.mark.parametrize("mode", MODES)
def test_wechat_retries_within_the_bound_are_accepted(client, mode):
    for age in (0, 60, 240):  # WeChat retries within seconds; clocks drift a little
        delivery = BUILD[mode](mp_text("你好", msg_id=f"9{age}"), ts=_ago(age))
        assert post(client, delivery).status_code == 200
    path, body = wxsign.work_post(wxsign.fixture("work_text.xml"), ts=_ago(-60))
    assert client.post(path, data=body).status_code == 200
    assert len(timeline("message")) == 3 and len(callback_events()) == 1


def test_the_bound_is_a_setting(ctx):
    client = create_app(env_for_tests(CALLBACK_MAX_AGE="7200")).test_client()
    assert post(client, wxsign.mp_safe(COMPLAINT, ts=_ago(3600))).status_code == 200


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bound_that_is_not_a_positive_number_stops_the_start(value):
    from app.core.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="CALLBACK_MAX_AGE"):
        load_config(env_for_tests(CALLBACK_MAX_AGE=value))


@pytest.mark.parametrize("setting", ["WECHAT_MP_TOKEN", "WECOM_TOKEN"])
def test_without_a_token_every_callback_is_refused(app, setting):
    """Found by a probe: with the token unset, a signature over an empty token (anybody's)
    was accepted and a forged customer created. Now nothing is, in any mode."""
    import hashlib
    import time

    from app import create_app
    from tests.conftest import env_for_tests

    bare = create_app(env_for_tests(**{setting: ""}))
    client = bare.test_client()
    stamp, nonce = str(int(time.time())), "n"
    signature = hashlib.sha1("".join(sorted(["", stamp, nonce])).encode()).hexdigest()
    query = f"signature={signature}&msg_signature={signature}&timestamp={stamp}&nonce={nonce}"
    path = "/wechat/mp" if setting == "WECHAT_MP_TOKEN" else "/wechat/work"
    body = wxsign.fixture("mp_text.xml").encode()
    assert client.get(f"{path}?{query}&echostr=hi").status_code == 403
    answer = client.post(f"{path}?{query}", data=body, content_type="text/xml")
    assert answer.status_code == 403 and b"is not set" in answer.data

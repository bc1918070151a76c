"""Bad callbacks: a clear 4xx, nothing stored; and the database-down and race cases."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import create_app
from app.core.extensions import db
from app.models import CallbackEvent, Customer, TimelineEvent
from tests import wxsign
from tests.conftest import env_for_tests

TEXT = wxsign.fixture("mp_text.xml")


def stored_rows() -> int:
    return sum(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (TimelineEvent, CallbackEvent, Customer)
    )


def signed_query(**extra) -> str:
    ts, nonce = wxsign.now(), "n1"
    return urlencode(
        {
            "signature": wxsign.sha1_sorted("spamtest", ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            **extra,
        }
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "signature=deadbeef&timestamp=1700000000&nonce=n1",
        urlencode(
            {
                "signature": wxsign.sha1_sorted("othertoken", "1700000000", "n1"),
                "timestamp": "1700000000",
                "nonce": "n1",
            }
        ),
    ],
)
def test_wrong_or_missing_signature_is_403_and_stores_nothing(client, query):
    response = client.post("/wechat/mp?" + query, data=TEXT)
    assert response.status_code == 403
    assert stored_rows() == 0


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"<xml><ToUserName>a</ToUserName>", b"malformed"),
        (b"not xml at all", b"malformed"),
        (
            b'<!DOCTYPE xml [<!ENTITY x "boom">]><xml><FromUserName>&x;</FromUserName></xml>',
            b"hostile",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml>&lol2;</xml>',
            b"hostile",
        ),
        (b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml/>', b"hostile"),
        (b"<notxml><a>1</a></notxml>", b"not <xml>"),
        (b"<xml><MsgType>text</MsgType></xml>", b"FromUserName"),
    ],
)
def test_malformed_or_hostile_xml_is_400_and_stores_nothing(client, body, reason):
    response = client.post("/wechat/mp?" + signed_query(), data=body)
    assert response.status_code == 400 and reason in response.data
    assert stored_rows() == 0


def test_safe_mode_body_that_does_not_decrypt_is_400(client):
    ts, nonce, garbage = wxsign.now(), "n1", "AAAAbm90IGEgcmVhbCBjaXBoZXJ0ZXh0IGF0IGFsbA=="
    query = urlencode(
        {
            "timestamp": ts,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": wxsign.sha1_sorted("spamtest", ts, nonce, garbage),
        }
    )
    body = f"<xml><Encrypt>{garbage}</Encrypt></xml>"
    response = client.post("/wechat/mp?" + query, data=body)
    assert response.status_code == 400 and response.data == b"does not decrypt"
    assert stored_rows() == 0


def test_safe_mode_message_for_another_appid_is_400(client):
    path, body = wxsign.mp_safe(TEXT, appid="wxSOMEBODYELSE0000")
    response = client.post(path, data=body)
    assert response.status_code == 400 and b"not ours" in response.data
    assert stored_rows() == 0


def test_safe_mode_checks_msg_signature_not_signature(client):
    path, body = wxsign.mp_safe(TEXT)
    tampered = path.replace("msg_signature=", "msg_signature=0")
    assert client.post(tampered, data=body).status_code == 403
    assert stored_rows() == 0


def test_body_over_one_mebibyte_is_413(client):
    body = b"<xml><Content>" + b"a" * (1024 * 1024) + b"</Content></xml>"
    for path in (
        "/wechat/mp?" + signed_query(),
        "/wechat/work?msg_signature=x&timestamp=1&nonce=1",
    ):
        assert client.post(path, data=body).status_code == 413
    assert stored_rows() == 0


def test_database_down_answers_503_so_wechat_retries(ctx):
    broken = create_app(env_for_tests(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    path, body = wxsign.mp_plain(TEXT)
    assert broken.test_client().post(path, data=body).status_code == 503


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=300).map(str.encode),
        st.integers(0, len(TEXT) - 2).map(lambda n: TEXT[:n].encode()),
    )
)
def test_random_and_truncated_bodies_never_500_never_store(client, body):
    for path in (
        "/wechat/mp?" + signed_query(),
        "/wechat/mp?" + signed_query(encrypt_type="aes", msg_signature="x"),
        "/wechat/work?msg_signature=x&timestamp=1&nonce=1",
    ):
        assert client.post(path, data=body).status_code < 500
    assert db.session.scalar(select(func.count(TimelineEvent.id))) == 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    encrypted=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200
    )
)
def test_correctly_signed_garbage_ciphertext_never_500(client, encrypted):
    ts, nonce = wxsign.now(), "n1"
    query = urlencode(
        {
            "msg_signature": wxsign.sha1_sorted("QDG6eK", ts, nonce, encrypted),
            "timestamp": ts,
            "nonce": nonce,
        }
    )
    response = client.post(
        "/wechat/work?" + query, data=f"<xml><Encrypt>{encrypted}</Encrypt></xml>"
    )
    assert response.status_code < 500
    assert db.session.scalar(select(func.count(CallbackEvent.id))) == 0


@pytest.mark.postgres
def test_two_concurrent_deliveries_of_one_message_store_one_event(app):
    from tests.conftest import _truncate

    _truncate(app)
    delivery = wxsign.mp_safe(TEXT)
    codes = wxsign.post_concurrently(app, [delivery, delivery])
    assert codes == [200, 200]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "message")
            )
            == 1
        )
        assert db.session.scalar(select(func.count(Customer.id))) == 1


@pytest.mark.postgres
def test_after_a_database_restart_one_delivery_gets_503_and_the_retry_is_stored(ctx):
    import psycopg

    client = ctx.test_client()
    path, body = wxsign.mp_safe(TEXT)
    assert client.post(path, data=body).status_code == 200  # the pool now holds connections
    url = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as admin:  # what a restart does to them
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    retry = wxsign.mp_safe(TEXT.replace("<MsgId>", "<MsgId>7"))
    codes = [client.post(retry[0], data=retry[1]).status_code for _ in range(2)]
    assert codes == [503, 200]  # WeChat retries the 503; the pool was renewed meanwhile
    messages = select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "message")
    assert db.session.scalar(messages) == 2

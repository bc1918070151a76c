"""Inside WeChat the scan page learns who scans through the official account's OAuth
(snsapi_base) against the fake WeChat server; a known customer's scan is a timeline event."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app import create_app
from app.core.extensions import db
from app.models import Customer, TimelineEvent, TraceScan
from app.services.customers import customers
from tests.conftest import env_for_tests
from tests.trace.test_scan_page import scan

WECHAT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) NetType/WIFI"
)
MP_APPID = "wx2c2769f8efd9abc2"  # env_for_tests


@pytest.fixture
def wx(stocked, fake_wechat):
    """A client of an app whose OAuth and API bases are the fake server."""
    fake_wechat.add_app(MP_APPID, "mp-secret")
    app = create_app(
        env_for_tests(WECHAT_API_BASE=fake_wechat.url, WECHAT_OAUTH_BASE=fake_wechat.url)
    )
    client = app.test_client()
    client.fake, client.code = fake_wechat, stocked.codes[0]["code"]
    return client


def known_customer(openid: str = "oKnownOwner01") -> Customer:
    customer = Customer(name="张业主")
    db.session.add(customer)
    db.session.flush()
    customers.add_identity(customer, "mp_openid", openid, MP_APPID)
    db.session.commit()
    return customer


def through_wechat(wx, openid: str | None, snapshot: bool = False):
    """Open the page in WeChat's browser: to the authorize page, back with a code."""
    first = scan(wx, wx.code, ua=WECHAT)
    assert first.status_code == 302
    location = first.headers["Location"]
    assert location.startswith(f"{wx.fake.url}/connect/oauth2/authorize?appid={MP_APPID}&")
    query = parse_qs(urlsplit(location).query)
    assert query["scope"] == ["snsapi_base"] and location.endswith("#wechat_redirect")
    assert query["redirect_uri"] == [f"http://127.0.0.1:5000/t/{wx.code}"]
    wx.fake.oauth_as(openid, snapshot=snapshot)
    back = requests.get(location, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    parts = urlsplit(back.headers["Location"])
    return wx.get(
        f"{parts.path}?{parts.query}",
        headers={"User-Agent": WECHAT},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )


def test_a_known_customer_scanning_in_wechat_is_on_their_timeline(wx, loopback_only):
    owner = known_customer()
    page = through_wechat(wx, "oKnownOwner01")
    assert page.status_code == 200 and "东鹏" in page.get_data(as_text=True)
    assert "trace_wx=" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    (row,) = db.session.scalars(select(TraceScan)).all()
    assert (row.customer_id, row.channel, row.in_wechat) == (owner.id, "wechat", True)
    event = db.session.scalars(select(TimelineEvent).filter_by(kind="material_scanned")).one()
    assert (
        event.customer_id == owner.id
        and event.channel == "mp"
        and event.payload["trace_code"] == wx.code
    )
    again = scan(wx, wx.code, ua=WECHAT)  # the cookie remembers: no second trip to WeChat
    assert again.status_code == 200
    assert wx.fake.count("/sns/oauth2/access_token") == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(TraceScan).filter_by(customer_id=owner.id)
        )
        == 2
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(TimelineEvent).filter_by(kind="material_scanned")
        )
        == 1
    )


def test_a_stranger_or_a_snapshot_user_is_no_customer(wx, loopback_only):
    known_customer("oSnapshotOwner")
    assert through_wechat(wx, "oStrangerXYZ").status_code == 200
    wx.delete_cookie("trace_wx", path="/t/")
    assert through_wechat(wx, "oSnapshotOwner", snapshot=True).status_code == 200
    assert db.session.scalars(select(TraceScan.customer_id)).all() == [None, None]
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2  # site's + ours


def test_a_forged_state_or_wechat_down_still_shows_the_page(wx, loopback_only):
    known_customer()
    forged = wx.get(f"/t/{wx.code}?code=abc&state=forged", headers={"User-Agent": WECHAT})
    assert forged.status_code == 200 and wx.fake.count("/sns/oauth2/access_token") == 0
    wx.fake.http_error("/sns/oauth2/access_token", 500)
    assert through_wechat(wx, "oKnownOwner01").status_code == 200
    assert db.session.scalars(select(TraceScan.customer_id)).all() == [None, None]


def test_an_unknown_code_in_wechat_is_404_without_a_trip_to_wechat(wx):
    page = scan(wx, "2222222222222222A", ua=WECHAT)
    assert page.status_code == 404 and wx.fake.count() == 0

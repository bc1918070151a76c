"""Media URL tokens have a bounded life, whatever stamp they carry (issue 12, item 12)."""

import hashlib
import hmac
from datetime import timedelta

import pytest
import time_machine

from app.core import media_tokens as media
from app.models.types import utcnow
from tests.projects.test_project_photos import _b64


def _token(ctx, photo: dict) -> str:
    with ctx.test_request_context():
        return media.photo_urls(photo)["url"].removeprefix("/media/")


def _legacy(ctx, key: str, issued) -> str:
    secret = ctx.config["SECRET_KEY"].encode()
    mac_key = hashlib.sha256(b"zxcrm media url v1|" + secret).digest()
    body = f"{_b64(key)}.{int(issued.timestamp()):x}"
    return f"{body}.{_b64(hmac.digest(mac_key, body.encode(), 'sha256')[:18])}"


@pytest.mark.parametrize("ahead", [timedelta(days=3650), timedelta(hours=2), timedelta(minutes=6)])
def test_a_stamp_far_ahead_of_the_clock_is_never_good(ctx, ahead):
    """A token issued by a server whose clock ran ahead (or minted with a leaked key) would
    otherwise be good until its stamp plus the TTL: years."""
    now = utcnow()
    with time_machine.travel(now + ahead, tick=False):
        token = _token(ctx, {"key": "p/a.jpg", "thumb": "p/a_thumb.jpg"})
        legacy = _legacy(ctx, "p/a.jpg", now + ahead)
        assert media.key_of(token).key == media.key_of(legacy).key == "p/a.jpg"
    with time_machine.travel(now, tick=False):
        for stamped in (token, legacy):
            with pytest.raises(media.Expired):
                media.key_of(stamped)


def test_a_stamp_a_little_ahead_is_another_servers_clock(ctx):
    now = utcnow()
    with time_machine.travel(now + timedelta(minutes=4), tick=False):
        token = _token(ctx, {"key": "p/b.jpg"})
    with time_machine.travel(now, tick=False):
        assert media.key_of(token).key == "p/b.jpg"
    later = now + timedelta(minutes=4, seconds=ctx.config["MEDIA_URL_TTL"] + 1)
    with time_machine.travel(later, tick=False), pytest.raises(media.Expired):
        media.key_of(token)

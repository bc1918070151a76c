"""Trace codes: random and unique, QR PNG/SVG that decode to their URL, label sheets."""

import io
import math
import random
import re

import pypdfium2
import qrcode
import zxingcpp
from defusedxml import ElementTree
from PIL import Image
from qrcode import util
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import TraceCode
from app.services.trace import codes, qr
from tests.trace.helpers import api, make_batch, make_codes

BASE = "http://127.0.0.1:5000"  # TRACE_PUBLIC_BASE of the test settings


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_codes_are_random_unique_and_free_of_look_alikes(stocked):
    issued = [c["code"] for c in stocked.codes]
    assert len(set(issued)) == 30 and [c["serial"] for c in stocked.codes] == list(range(1, 31))
    assert math.log2(len(codes.ALPHABET)) * codes.LENGTH >= 80
    assert not set("0O1IL") & set(codes.ALPHABET) and codes.ALPHABET.isupper()
    assert all(re.fullmatch(f"[{codes.ALPHABET}]{{{codes.LENGTH}}}", c) for c in issued)
    assert all(c["url"] == f"{BASE}/t/{c['code']}" for c in stocked.codes)
    more = make_codes(stocked.team, stocked.batch["id"], 5)
    assert [c["serial"] for c in more] == list(range(31, 36))  # serials continue
    page = api(stocked.team, "get", f"/trace/batches/{stocked.batch['id']}/codes?limit=20").json
    assert len(page["items"]) == 20 and page["next_cursor"] == "20"


def test_more_than_the_maximum_per_call_is_400_and_stores_nothing(site):
    batch = make_batch(site, quantity=0)
    site.client.application.config["TRACE_MAX_CODES"] = 50
    try:
        refused = api(site, "post", f"/trace/batches/{batch['id']}/codes", 400, json={"count": 51})
    finally:
        site.client.application.config["TRACE_MAX_CODES"] = 10_000
    assert "50" in refused.json["error"]["fields"]["count"]
    api(site, "post", f"/trace/batches/{batch['id']}/codes", 400, json={"count": 0})
    assert db.session.scalar(select(func.count()).select_from(TraceCode)) == 0
    small = make_batch(site, "B2", quantity=10)
    api(site, "post", f"/trace/batches/{small['id']}/codes", 400, json={"count": 11})
    api(
        site,
        "post",
        f"/trace/batches/{small['id']}/codes",
        403,
        json={"count": 1},
        headers=site.pm_h,
    )


def test_every_png_decodes_to_its_url(stocked):
    for item in stocked.codes:
        response = api(
            stocked.team, "get", f"/trace/codes/{item['code']}/qr.png", headers=stocked.team.pm_h
        )
        assert response.mimetype == "image/png"
        assert decode(Image.open(io.BytesIO(response.data))) == [f"{BASE}/t/{item['code']}"]


def test_svg_is_one_path_on_white(stocked):
    response = api(stocked.team, "get", f"/trace/codes/{stocked.codes[0]['code']}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag.endswith("svg") and len([e for e in root if e.tag.endswith("path")]) >= 1


def test_unknown_or_malformed_codes_have_no_qr(stocked):
    for code in ("2222222222222222A", stocked.codes[0]["code"].lower(), "x" * 300):
        api(stocked.team, "get", f"/trace/codes/{code}/qr.png", 404)


def _pages(pdf: bytes) -> pypdfium2.PdfDocument:
    return pypdfium2.PdfDocument(pdf)


def test_label_sheet_decodes_and_shows_the_batch_in_chinese(stocked, tmp_path):
    response = api(stocked.team, "get", f"/trace/batches/{stocked.batch['id']}/labels.pdf")
    assert response.mimetype == "application/pdf"
    document = _pages(response.data)
    assert len(document) == 2  # 30 labels, 24 a page
    page = document[0]
    image = page.render(scale=200 / 72).to_pil()
    image.save(tmp_path / "labels-page-1.png")
    expected = {f"{BASE}/t/{c['code']}" for c in stocked.codes[:24]}
    assert set(decode(image)) == expected
    text = page.get_textpage().get_text_range()
    assert (
        "东鹏 通体大理石瓷砖" in text and "批次 B20261101" in text and "型号 YT-B20261101" in text
    )
    assert stocked.codes[0]["code"] in text and "第 1 号" in text
    assert b"NotoSansCJK" in response.data  # the CJK font is embedded, not referenced
    second = document[1].render(scale=200 / 72).to_pil()
    assert set(decode(second)) == {f"{BASE}/t/{c['code']}" for c in stocked.codes[24:]}


def test_label_range_and_roles(stocked):
    url = f"/trace/batches/{stocked.batch['id']}/labels.pdf?first_serial=3&last_serial=5"
    page = _pages(api(stocked.team, "get", url).data)[0]
    codes_on_page = set(decode(page.render(scale=200 / 72).to_pil()))
    assert codes_on_page == {f"{BASE}/t/{c['code']}" for c in stocked.codes[2:5]}
    api(stocked.team, "get", url, 403, headers=stocked.team.sales_h)


def test_cli_writes_the_label_sheet_with_a_progress_bar(stocked, tmp_path):
    out = tmp_path / "labels.pdf"
    runner = stocked.team.client.application.test_cli_runner()
    result = runner.invoke(args=["trace", "labels", str(stocked.batch["id"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "30 个标签, 2 页" in result.output and "生成标签" in result.output
    assert len(_pages(out.read_bytes())) == 2
    missing = runner.invoke(args=["trace", "labels", "999", "--out", str(tmp_path / "x.pdf")])
    assert missing.exit_code != 0 and "批次不存在" in missing.output
    assert not (tmp_path / "x.pdf").exists()


def test_codewords_are_qrcodes_own():
    """qr._codewords builds what qrcode's util.create_data does, for URLs of several lengths
    (byte and mixed modes) and versions."""
    rng = random.Random(13)
    for base in (BASE, "https://trace.example.com", "https://t.cn", "https://x.example.com/a/b"):
        for _ in range(40):
            url = f"{base}/t/{''.join(rng.choice(codes.ALPHABET) for _ in range(codes.LENGTH))}"
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
            code.add_data(url)
            code.best_fit()
            for version in (code.version, code.version + 1, code.version + 5):
                mine = qr._codewords(version, code.error_correction, code.data_list)
                assert mine == util.create_data(version, code.error_correction, code.data_list)


def test_png_is_one_bit_grey_at_ten_pixels_a_module():
    url = f"{BASE}/t/{'2' * codes.LENGTH}"
    image = Image.open(io.BytesIO(qr.png(url)))
    side = len(qr.matrix(url)) + 2 * qr.QUIET
    assert image.mode == "1" and image.size == (side * qr.BOX, side * qr.BOX)
    assert decode(image) == [url]

"""Kinds of phrasing the tagger must read (issue #17): every message of
tests/data/tagging_kinds.jsonl gets exactly its labelled tags (and its budget amount).

The file was written for this suite from product.md's rules ("Intent tags", "How a message
is read"), a few messages for each kind: scope stated without the word 装修, commercial spaces
by their kind, one room only, number forms, pinyin shorthand, typos, voice-to-text without
punctuation, emoji, after-sales and complaints. It is neither the tuned set nor the blind set.
"""

import json
from pathlib import Path

import pytest

from app.tagging import parse_budget, tag_text

KINDS = Path(__file__).parents[1] / "data" / "tagging_kinds.jsonl"
ROWS = [json.loads(line) for line in KINDS.read_text(encoding="utf-8").splitlines() if line]


def _id(row: dict) -> str:
    return f"{row['kind']}:{row['text'][:12]}"


@pytest.mark.parametrize("row", ROWS, ids=[_id(r) for r in ROWS])
def test_each_kind_gets_exactly_its_tags(row):
    assert sorted(h.tag for h in tag_text(row["text"])) == sorted(row["tags"])


@pytest.mark.parametrize(
    "row", [r for r in ROWS if "budget_yuan" in r], ids=lambda r: r["text"][:16]
)
def test_each_stated_amount_is_read(row):
    hit = parse_budget(row["text"])
    assert hit is not None and hit.amount == row["budget_yuan"]


def test_the_kinds_cover_every_scope_and_intent():
    kinds = {r["kind"] for r in ROWS}
    for value in ("家装", "工装", "翻新", "局部改造"):
        assert f"需求:{value}" in kinds
    for value in ("咨询报价", "预约量房", "预约到店", "报修", "投诉", "推荐"):
        assert f"意向:{value}" in kinds


# ---------- the kinds issue #17 names, in its words ----------


def tags(text):
    return sorted(h.tag for h in tag_text(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a whole home named by 全屋 / 整套 with a style or a budget is 家装
        ("全屋北欧风", ["需求:家装", "空间:全屋", "风格:北欧"]),
        ("整套预算25万", ["需求:家装", "空间:全屋", "预算:中端"]),
        ("整套装下来一般保修几年", ["需求:家装", "空间:全屋", "关注:售后"]),
        # …but a whole home to refresh is 翻新, and 全屋定制 is furniture, not the home
        ("全屋翻新预算20万", ["需求:翻新", "空间:全屋", "预算:中端"]),
        ("全屋定制的柜子什么牌子", []),
        # commercial spaces other than an office or a shop are 工装, even when redone
        ("展厅200平，预算80-100万", ["需求:工装", "预算:高端"]),
        ("公司要重新装修一下", ["需求:工装"]),
        ("会所装修", ["需求:工装"]),
        ("民宿翻新", ["需求:工装"]),
        ("开了个美甲店想装修", ["需求:工装"]),
        ("月子中心要翻新", ["需求:工装"]),
        ("办公室全包多少钱一平", ["需求:工装", "关注:价格", "意向:咨询报价"]),
        # …while the company's own showroom or store is a visit
        ("周末去你们展厅看看", ["意向:预约到店"]),
        ("周末去你们门店看看", ["意向:预约到店"]),
        ("想做成酒店那种感觉", []),
        # one named room and nothing else is 局部改造
        ("就这一个房间，儿童房", ["需求:局部改造", "空间:儿童房"]),
        ("书房改一下，其他不动", ["需求:局部改造", "空间:书房"]),
        ("厨房和卫生间翻一下", ["需求:局部改造", "空间:厨房", "空间:卫生间"]),
        # a room and a style alone say no scope
        ("卧室想要日式风格", ["空间:卧室", "风格:日式"]),
        # a repair or a complaint is about work done: no scope
        ("去年你们给我家装的卫生间漏水了，派人来修", ["意向:报修", "关注:质量", "空间:卫生间"]),
        # breakage told before new work is no repair
        ("老房子想翻新，墙皮都掉了", ["需求:翻新", "户型:老房"]),
        ("门吸掉了自己粘上了，不用来了", []),
    ],
)
def test_kinds_named_by_the_issue(text, expected):
    assert tags(text) == sorted(expected)

"""Budgets: amounts and ranges read from messages, tiers from settings, no false amounts."""

import pytest

from app.tagging import BudgetThresholds, parse_budget, tag_text


@pytest.mark.parametrize(
    ("text", "amount", "tier"),
    [
        ("预算20万", 200_000, "中端"),
        ("20w", 200_000, "中端"),
        ("20W左右，不想超", 200_000, "中端"),
        ("二十万", 200_000, "中端"),
        ("十五到二十万之间", 175_000, "中端"),
        ("15-20万，三居室", 175_000, "中端"),
        ("15万~20万", 175_000, "中端"),
        ("八万左右能做个简装吗", 80_000, "经济"),
        ("一百万", 1_000_000, "高端"),
        ("预算50万以内", 500_000, "高端"),
        ("三四十万的预算", 350_000, "高端"),
        ("十二三万能装成什么样子", 125_000, "中端"),
        ("一百多万，别墅", 1_000_000, "高端"),
        ("二十来万", 200_000, "中端"),
        ("预算大概两万五，刷墙", 25_000, "经济"),
        ("80000元能把厨卫翻新吗", 80_000, "经济"),
        ("5万块钱", 50_000, "经济"),
        ("预算大概25个w", 250_000, "中端"),
        ("９.８万的套餐", 98_000, "经济"),
        ("3000元/平，120平", 360_000, "高端"),
        ("每平3000的话，120平米要多少", 360_000, "高端"),
        ("1500一平，房子90㎡", 135_000, "中端"),
        ("总价控制在10万", 100_000, "中端"),
        ("最多出30万", 300_000, "高端"),
    ],
)
def test_amounts_ranges_and_per_square_prices(text, amount, tier):
    hit = parse_budget(text)
    assert hit is not None
    assert (hit.amount, hit.tier) == (amount, tier)
    assert all(w in text for w in hit.words)


@pytest.mark.parametrize(
    "text",
    [
        "120平，3室2厅2卫",
        "13812345678 这是我电话",
        "2023年12月交房",
        "房龄20年的老小区",
        "这面墙厚度只有5cm",
        "我家住12楼，层高2.8米",
        "千万别用欧式",
        "一万个放心",
        "小区物业说要交装修押金2000元",
        "增项又加了2万多",
        "别家报价便宜两万",
        "瓷砖80块一片",
        "3000元/平",  # a unit price without an area is not a total
        "",
    ],
)
def test_numbers_that_are_not_budgets(text):
    assert parse_budget(text) is None


def test_first_stated_total_is_used_and_extras_are_ignored():
    hit = parse_budget("合同上写的是18.8万，现在增项又加了2万多")
    assert (hit.amount, hit.words) == (188_000, ("18.8万",))


def test_tiers_follow_the_thresholds_setting():
    assert parse_budget("预算10万").tier == "中端"
    assert parse_budget("预算9.9万").tier == "经济"
    assert parse_budget("预算30万").tier == "高端"
    strict = BudgetThresholds(high=500_000, mid=200_000)
    assert parse_budget("预算30万", strict).tier == "中端"
    assert parse_budget("预算15万", strict).tier == "经济"
    hits = tag_text("预算30万", thresholds=(500_000, 200_000))
    assert [h.tag for h in hits] == ["预算:中端"]


def test_budget_hit_carries_amount_and_original_words():
    (hit,) = tag_text("20W左右")
    assert (hit.tag, hit.amount, hit.words) == ("预算:中端", 200_000, ("20W",))


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("预算有限，能省则省", "预算:经济"),
        ("我们主要看性价比", "预算:经济"),
        ("不差钱，要最好的材料", "预算:高端"),
        ("预算充足，进口材料优先", "预算:高端"),
        ("要高端一点的", "预算:高端"),
    ],
)
def test_budget_words_without_an_amount(text, tag):
    budget = [h for h in tag_text(text) if h.dimension == "预算"]
    assert [h.tag for h in budget] == [tag]
    assert budget[0].amount is None


def test_an_amount_wins_over_budget_words():
    budget = [h for h in tag_text("预算有限，大概二十万") if h.dimension == "预算"]
    assert [(h.tag, h.amount) for h in budget] == [("预算:中端", 200_000)]


@pytest.mark.parametrize("text", ["想做轻奢风", "轻奢风的客厅", "不想用进口材料，国产的就行"])
def test_no_budget_tier_without_evidence(text):
    assert not [h for h in tag_text(text) if h.dimension == "预算"]

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
        # a digit after 万 is the next place down (product.md: 29万8 is 29.8万)
        ("预算29万8，不能再多了", 298_000, "中端"),
        ("12万5，两室，现代简约，可以吗", 125_000, "中端"),
        ("三十万八千左右", 308_000, "高端"),
        ("大概20万8千", 208_000, "中端"),
        ("1万2000搞定卫生间", 12_000, "经济"),
        ("两万五", 25_000, "经济"),
        # …but a count after 万 is not
        ("预算15万3室2厅", 150_000, "中端"),
        ("预算20万2个卫生间都要做", 200_000, "中端"),
        # a digit after 百 / 千 is the next place down too
        ("一百五十平，每平一千五", 225_000, "中端"),
        ("预算一百五万", 1_500_000, "高端"),
        ("一百零五万", 1_050_000, "高端"),
        # number forms: a letter o for zero, w+, mixed numerals, 个 for 万, k, 百来万
        ("预算2O万左右😊", 200_000, "中端"),
        ("1oo万的别墅", 1_000_000, "高端"),
        ("20w+能做轻奢吗", 200_000, "中端"),
        ("十五六万", 155_000, "中端"),
        ("1百万以内", 1_000_000, "高端"),
        ("1千万以内都可以", 10_000_000, "高端"),
        ("百来万吧，看设计", 1_000_000, "高端"),
        ("准备了两百个", 2_000_000, "高端"),
        ("预算三十个左右", 300_000, "高端"),
        ("预算80k", 80_000, "经济"),
        ("ys 15w", 150_000, "中端"),
        ("budget 100w以内", 1_000_000, "高端"),
        ("预算80000", 80_000, "经济"),
        ("预算30左右", 300_000, "高端"),
        ("最多7w", 70_000, "经济"),
        # a price per m² (a range at its midpoint) times the stated area
        ("房子150平，预算按每平600到1000算", 120_000, "中端"),
        ("书房和儿童房要改一下，预算每平600到800，一共25平", 17_500, "经济"),
        ("每平两千左右，一百八十平，全屋轻奢风", 360_000, "高端"),
        ("办公室200平，想做工业风，每平一千五", 300_000, "高端"),
        ("一百五十平，每平一千左右的预算", 150_000, "中端"),
        ("每平米1000元，120平", 120_000, "中端"),
        ("一千五一平，100平", 150_000, "中端"),
        ("单价800-1200元/平，面积90", 90_000, "经济"),
        ("建面120，每平米1500", 180_000, "中端"),
        # parts of one budget add up
        ("硬装打算18万，软装家电另外15万", 330_000, "高端"),
        ("硬装16万，软装大概12万，全屋北欧", 280_000, "中端"),
        ("硬装20w 软装10w 全屋日式", 300_000, "高端"),
        ("新房要装修，硬装12万，软装6万，家电3万左右", 210_000, "中端"),
        ("硬装预算150万，软装另外50万", 2_000_000, "高端"),
        ("硬装大概十五万然后软装那个家具家电大概再加个八万左右", 230_000, "中端"),
        ("预算20万，家电另外准备5万", 250_000, "中端"),
        # …unless the whole is said
        ("硬装15万，软装5万，总共20万", 200_000, "中端"),
        # the amount said to be the budget, not the flat's price or a second guess
        ("房子买了300万，装修预算20万", 200_000, "中端"),
        ("300万买的房子，装修不想超过25万", 250_000, "中端"),
        ("预算20万，最多30万", 200_000, "中端"),
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
        "每平米1000元",
        "两个卫生间，三个卧室",
        "卧室两个，厨房一个",
        "几十万吧",
        "",
    ],
)
def test_numbers_that_are_not_budgets(text):
    assert parse_budget(text) is None


def test_parts_are_all_evidence():
    hit = parse_budget("硬装打算18万，软装家电另外15万")
    assert hit.words == ("18万", "15万")
    (budget,) = [h for h in tag_text("硬装打算18万，软装家电另外15万") if h.dimension == "预算"]
    assert (budget.tag, budget.amount, budget.words) == ("预算:高端", 330_000, ("18万", "15万"))


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

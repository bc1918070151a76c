"""tag_text on real customer messages: quality bar, negation, evidence, bad input, speed bounds."""

import json
import threading
import time
from collections import Counter
from pathlib import Path

import jieba
import pytest

from app.tagging import MAX_ANALYSED_CHARS, TAXONOMY, TagHit, segment, tag_text, tag_text_detailed
from app.tagging.evaluation import Example, evaluate, evaluate_examples, load_examples

EVAL = Path(__file__).parents[1] / "data" / "tagging_eval.jsonl"
BLIND_DEV = Path(__file__).parents[1] / "data" / "tagging_blind_dev.jsonl"
# The frozen hold-out: never tuned on (issue #17); this test only guards the bars.
BLIND_HOLDOUT = Path(__file__).parents[1] / "data" / "tagging_blind_holdout.jsonl"
BAR_MICRO_F1, BAR_DIMENSION_F1 = 0.90, 0.80
# Issue #17's bars, measured on the blind hold-out by the lead; the development part, which
# was tuned on, must meet them too.
BLIND_MICRO_F1, BLIND_DIMENSION_F1 = 0.92, 0.88


def tags(text, **kw):
    return [h.tag for h in tag_text(text, **kw)]


# ---------- the evaluation set and the quality bar ----------


def test_eval_set_is_big_varied_and_valid():
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 320
    assert sum(1 for r in rows if not r["tags"]) >= 40
    assert len({r["text"] for r in rows}) == len(rows)
    counts = Counter(t for r in rows for t in r["tags"])
    for tag in counts:
        dimension, _, value = tag.partition(":")
        assert value in TAXONOMY.get(dimension, ()), tag
    for dimension, values in TAXONOMY.items():
        for value in values:
            assert counts[f"{dimension}:{value}"] >= 3, f"{dimension}:{value}"


def test_quality_bar_on_eval_set():
    report = evaluate(EVAL)
    errors = "\n".join(f"{e.text} missing={e.missing} extra={e.extra}" for e in report.errors)
    assert report.overall.f1 >= BAR_MICRO_F1, errors
    for dimension, counts in report.by_dimension.items():
        assert counts.f1 >= BAR_DIMENSION_F1, f"{dimension} F1={counts.f1:.3f}\n{errors}"


def test_blind_dev_set_meets_the_hold_out_bars_and_reads_its_amounts():
    report = evaluate(BLIND_DEV)
    errors = "\n".join(f"{e.text} missing={e.missing} extra={e.extra}" for e in report.errors)
    assert report.examples == 210
    assert report.overall.f1 >= BLIND_MICRO_F1, errors
    for dimension, counts in report.by_dimension.items():
        assert counts.f1 >= BLIND_DIMENSION_F1, f"{dimension} F1={counts.f1:.3f}\n{errors}"
    assert report.amounts_read == report.amounts_stated == 68, report.amount_errors


def test_blind_hold_out_stays_above_the_bars():
    """Measured, never tuned on: a change that generalises worse fails here."""
    report = evaluate(BLIND_HOLDOUT)
    assert report.examples == 415
    assert report.overall.f1 >= BLIND_MICRO_F1, f"micro-F1 {report.overall.f1:.3f}"
    for dimension, counts in report.by_dimension.items():
        assert counts.f1 >= BLIND_DIMENSION_F1, f"{dimension} F1={counts.f1:.3f}"


def test_metric_catches_a_bad_tagger():
    examples = load_examples(EVAL)
    silent = evaluate_examples(examples, tagger=lambda text: [])
    assert silent.overall.f1 == 0.0 and silent.overall.fn > 0
    noisy = evaluate_examples(examples, tagger=lambda text: ["风格:欧式"])
    assert noisy.by_dimension["风格"].precision < 0.1
    perfect = evaluate_examples([Example("x", frozenset({"风格:北欧"}))], lambda t: ["风格:北欧"])
    assert perfect.overall.f1 == 1.0 and not perfect.errors


# ---------- real messages ----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "你好，我家新房120平，想做现代简约风格，全包大概多少钱？",
            ["需求:家装", "风格:现代简约", "空间:全屋", "关注:价格", "意向:咨询报价", "户型:新房"],
        ),
        (
            "老房子的厨房想翻新，其他不动",
            ["需求:局部改造", "空间:厨房", "户型:老房"],
        ),
        ("新中式风格的客厅有案例吗", ["风格:新中式", "空间:客厅"]),
        (
            "卫生间又漏水了！！修了三次还漏，气死我了",
            ["空间:卫生间", "关注:质量", "意向:报修", "意向:投诉"],
        ),
        ("我同事推荐的，想约个时间来量房", ["意向:预约量房", "意向:推荐"]),
        ("周末想去你们展厅看看材料", ["意向:预约到店"]),
        ("开奶茶店，店面40平，你们做不做工装", ["需求:工装"]),
        ("刚买了套二手房，想重新装修一遍", ["需求:翻新", "户型:二手房"]),
        ("婴儿房用什么漆比较环保？", ["空间:儿童房", "关注:环保"]),
        ("保修几年？", ["关注:售后"]),
    ],
)
def test_real_messages(text, expected):
    assert tags(text) == expected


@pytest.mark.parametrize(
    "text", ["好的谢谢", "在吗", "👍👍", "收到，辛苦了", "我跟老公商量一下再回复你", "明天几点来？"]
)
def test_chit_chat_gets_no_tag(text):
    assert tags(text) == []


# ---------- negation and context ----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不要欧式", []),
        ("不喜欢太花哨的欧式", []),
        ("不喜欢北欧，感觉太冷淡", []),
        ("不是投诉哈", []),
        ("地中海就算了", []),
        ("不是新房，是老房子", ["户型:老房"]),
        ("不考虑美式，想要新中式", ["风格:新中式"]),
        ("不要美式不要欧式，就要简单的现代风", ["风格:现代简约"]),
        ("工期不要太长", ["关注:工期"]),
        ("质量不能差", ["关注:质量"]),
        ("别太贵就行", ["关注:价格"]),
        ("不是很在乎价格", []),
        ("价格无所谓，质量要过关", ["关注:质量"]),
        ("不知道选北欧还是日式", ["风格:北欧", "风格:日式"]),
        ("要不要把水电全部重做", ["需求:局部改造"]),
        ("没有电梯的老房子", ["户型:老房"]),
        ("暂时不用来量房，等交房再说", ["户型:新房"]),
    ],
)
def test_negation(text, expected):
    assert tags(text) == expected


# ---------- evidence ----------


def test_hit_carries_words_as_written_rule_and_tag():
    hits = tag_text("想要ＩＮＳ风的北欧风格，北欧的白")
    assert hits == [TagHit("风格", "北欧", ("ＩＮＳ风", "北欧"), "风格:北欧")]
    assert hits[0].tag == "风格:北欧" and hits[0].amount is None
    assert hits[0].as_dict()["words"] == ["ＩＮＳ风", "北欧"]


def test_one_hit_per_tag_in_taxonomy_order():
    hits = tag_text("厨房卫生间都漏水，厨房的台面也裂了，预算5万")
    assert [h.tag for h in hits] == sorted(
        {h.tag for h in hits},
        key=lambda t: (
            list(TAXONOMY).index(t.split(":")[0]),
            TAXONOMY[t.split(":")[0]].index(t.split(":")[1]),
        ),
    )
    assert len({h.tag for h in hits}) == len(hits)
    assert tag_text("厨房卫生间都漏水，厨房的台面也裂了，预算5万") == hits


# ---------- bad input ----------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "😀😀😀🎉🎉",
        "1234567890",
        "١٢٣ привет hello こんにちは",
        b"\xff\xfe",
        12345,
    ],
)
def test_bad_input_does_not_crash_or_invent_tags(text):
    result = tag_text_detailed(text)
    assert result.hits == () and result.truncated is False


def test_huge_input_is_truncated_and_time_bounded():
    text = "预算20万，想做北欧风。" + "哈" * 100_000 + "欧式"
    start = time.perf_counter()
    result = tag_text_detailed(text)
    assert time.perf_counter() - start < 1.0
    assert result.truncated and result.analysed_chars == MAX_ANALYSED_CHARS
    assert result.tags == ("预算:中端", "风格:北欧")  # 欧式 lies past the analysed head


def test_hundred_kb_of_mixed_junk_is_fast():
    text = ("🏠装修20W北欧" + "x1" * 7 + "，") * 5000
    start = time.perf_counter()
    tag_text(text)
    assert time.perf_counter() - start < 1.0


# ---------- segmentation ----------


def test_domain_words_stay_whole_and_do_not_leak_into_global_jieba():
    tokens = segment.tokenize("想做新中式的儿童房，先做水电改造")
    assert {"新中式", "儿童房", "水电改造"} <= set(tokens)
    assert "口碑银行" not in jieba.dt.FREQ or jieba.dt.FREQ["口碑银行"] == 0
    assert segment.get_tokenizer() is not jieba.dt


def test_tokenizer_is_built_once_under_concurrent_first_use(monkeypatch):
    built = []
    real_build = segment._build

    def counting_build():
        built.append(1)
        time.sleep(0.05)  # widen the race window
        return real_build()

    monkeypatch.setattr(segment, "_tokenizer", None)
    monkeypatch.setattr(segment, "_build", counting_build)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(segment.get_tokenizer())) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(r) for r in results}) == 1


# ---------- words inside longer tokens, shorthand, number forms ----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你们家施工工艺咋样", ["关注:质量"]),  # 工艺 ends the token 施工工艺
        ("客厅灯不亮了", ["空间:客厅", "意向:报修"]),  # 不亮 ends 灯不亮
        ("质量第一", ["关注:质量"]),  # a concern may start a token
        ("想做中高端的", []),  # 中高端 is kept whole: no 高端 inside it
        ("没多久就到了", []),  # 没多久: the word after a negating character does not count
        ("全屋定制的柜子", []),  # the start of a token is not looked inside
    ],
)
def test_words_inside_longer_tokens(text, expected):
    assert sorted(tags(text)) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ys 15w", "预算 15w"),
        ("QB多少钱", "全包多少钱"),
        ("gq多久", "工期多久"),
        ("2O万", "20万"),
        ("1OO万", "100万"),
        ("裝修預算20萬", "装修预算20万"),
        ("toys 20", "toys 20"),  # inside a word, not shorthand
    ],
)
def test_normalize_reads_shorthand_and_number_forms_without_moving_offsets(text, normalized):
    assert segment.normalize(text) == normalized
    assert len(segment.normalize(text)) == len(text)

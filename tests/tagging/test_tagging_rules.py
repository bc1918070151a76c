"""Rules: the shipped rules file, loading user files, refusing bad ones, rules from plain data."""

from pathlib import Path

import pytest

from app.tagging import (
    TAXONOMY,
    Rule,
    RuleFileError,
    RuleSet,
    default_rules,
    load_rules_file,
    tag_text,
)
from app.tagging.rules import GAP, WILD, RuleError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_rules_only_use_taxonomy_tags():
    rules = default_rules()
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.value in TAXONOMY[rule.dimension]
        assert rule.words


def test_every_tag_except_mid_budget_has_a_default_rule():
    # 预算:中端 only comes from an amount: there is no honest word for "medium budget".
    tags = {r.tag for r in default_rules()}
    expected = {f"{d}:{v}" for d, values in TAXONOMY.items() for v in values} - {"预算:中端"}
    assert expected <= tags


def test_every_plain_default_word_alone_gives_its_tag():
    for rule in default_rules():
        for word in rule.words:
            if GAP in word or WILD in word:
                continue
            for alt in word.split("/"):
                assert rule.tag in [h.tag for h in tag_text(alt)], (rule.name, alt)


def test_loads_a_user_rules_file(tmp_path):
    path = write(
        tmp_path,
        "# 注释行\n\n风格:北欧 = 北欧, 冷淡风 ; 除外 = 北欧旅游\n风格:北欧 = 极简北欧  # 行尾注释\n",
    )
    rules = load_rules_file(path)
    assert [r.name for r in rules] == ["风格:北欧", "风格:北欧#2"]
    assert rules[0].words == ("北欧", "冷淡风")
    assert rules[0].exclusions == ("北欧旅游",)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("颜色:红色 = 红, 大红", "未知维度 '颜色'"),
        ("风格:赛博朋克 = 赛博", "没有取值 '赛博朋克'"),
        ("风格:北欧 = , ，", "没有词"),
        ("风格:北欧 北欧风", "缺少 '='"),
        ("北欧 = 北欧风", "维度:值"),
        ("风格:北欧 = 北欧 ; 同义 = 冷淡", "除外"),
    ],
)
def test_refuses_a_bad_line_and_names_it(tmp_path, line, reason):
    path = write(tmp_path, "# header\n风格:日式 = 日式\n\n" + line + "\n风格:法式 = 法式\n")
    with pytest.raises(RuleFileError) as info:
        load_rules_file(path)
    message = str(info.value)
    assert "第4行" in message and reason in message and line.split("=")[0].strip() in message
    assert info.value.lineno == 4


def test_rules_from_plain_data_like_database_rows():
    rows = [
        {"id": 7, "dimension": "风格", "value": "北欧", "words": ["冷淡风"], "exclusions": []},
        {
            "id": 8,
            "dimension": "空间",
            "value": "书房",
            "words": ["工作间"],
            "exclusions": ["公司"],
        },
    ]
    rules = [
        Rule(r["dimension"], r["value"], r["words"], r["exclusions"], name=f"db:{r['id']}")
        for r in rows
    ]
    ruleset = RuleSet.from_rules(rules)
    hits = tag_text("想要冷淡风，家里留一个工作间", ruleset)
    assert [(h.tag, h.rule) for h in hits] == [("风格:北欧", "db:7"), ("空间:书房", "db:8")]
    assert tag_text("公司的工作间要翻新", ruleset) == []  # exclusion in the same clause
    assert [h.tag for h in tag_text("冷淡风", rules)] == ["风格:北欧"]  # a plain list works too


def test_custom_rules_replace_the_defaults():
    only_style = [Rule("风格", "日式", ["日式"])]
    assert [h.tag for h in tag_text("预算20万，日式，客厅", only_style)] == [
        "预算:中端",
        "风格:日式",
    ]


@pytest.mark.parametrize(
    ("dimension", "value", "words"),
    [
        ("颜色", "红", ["红"]),
        ("风格", "赛博朋克", ["赛博"]),
        ("风格", "北欧", []),
        ("风格", "北欧", [" "]),
    ],
)
def test_invalid_rule_data_is_refused(dimension, value, words):
    with pytest.raises(RuleError):
        Rule(dimension, value, words)


def test_gap_words_and_alternatives():
    rule = Rule("意向", "预约量房", ["来/过来…量/看房"])
    assert tag_text("这周能过来帮我量一下吗", [rule])
    assert tag_text("明天来看房", [rule])
    assert not tag_text("来了。量一下", [rule])  # the gap does not cross a clause


def test_plain_words_match_whole_tokens_only():
    rules = [Rule("空间", "全屋", ["全屋"])]
    assert tag_text("全屋都要做", rules)
    assert not tag_text("想做全屋定制的柜子", rules)


def test_a_wildcard_word_finds_each_kind_and_reads_as_the_word():
    rules = [Rule("需求", "工装", ("*店",), ("你们店",))]
    hits = tag_text("开了个宠物店，想装修", rules)
    assert [(h.tag, h.words) for h in hits] == [("需求:工装", ("宠物店",))]
    assert tag_text("周末去你们店看看", rules) == []


@pytest.mark.parametrize("word", ["*", "**", "*…*"])
def test_a_word_of_wildcards_only_is_refused(word):
    with pytest.raises(RuleError):
        Rule("需求", "工装", (word,))

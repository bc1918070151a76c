"""The intent-tag taxonomy, the budget tiers and the limits every part of the engine shares."""

from __future__ import annotations

from dataclasses import dataclass

# Dimensions and their allowed values, in display order (product.md, "Intent tags").
TAXONOMY: dict[str, tuple[str, ...]] = {
    "需求": ("家装", "工装", "翻新", "局部改造"),
    "预算": ("高端", "中端", "经济"),
    "风格": (
        "现代简约",
        "新中式",
        "北欧",
        "欧式",
        "美式",
        "日式",
        "轻奢",
        "工业风",
        "法式",
        "地中海",
    ),
    "空间": ("全屋", "客厅", "卧室", "儿童房", "老人房", "厨房", "卫生间", "阳台", "书房"),
    "关注": ("环保", "价格", "工期", "质量", "售后"),
    "意向": ("咨询报价", "预约量房", "预约到店", "报修", "投诉", "推荐"),
    "户型": ("新房", "老房", "二手房"),
}

BUDGET_DIMENSION = "预算"

# Only the head of a message is analysed: keeps the time per message bounded
# whatever a customer pastes (a contract, a novel, 100 KB of emoji).
MAX_ANALYSED_CHARS = 2000

_DIMENSION_ORDER = {dim: i for i, dim in enumerate(TAXONOMY)}
_VALUE_ORDER = {(dim, v): i for dim, values in TAXONOMY.items() for i, v in enumerate(values)}


def is_known_tag(dimension: str, value: str) -> bool:
    """True when `dimension:value` belongs to the taxonomy."""
    return value in TAXONOMY.get(dimension, ())


def tag_sort_key(dimension: str, value: str) -> tuple[int, int]:
    """Taxonomy order, so output is deterministic and reads like the product table."""
    return (_DIMENSION_ORDER.get(dimension, 99), _VALUE_ORDER.get((dimension, value), 99))


@dataclass(frozen=True)
class BudgetThresholds:
    """Tier limits in yuan: 高端 from `high` up, 中端 from `mid` up, 经济 below."""

    high: int = 300_000
    mid: int = 100_000


def budget_tier(amount: int, thresholds: BudgetThresholds | None = None) -> str:
    """The tier of an amount in yuan."""
    t = thresholds or BudgetThresholds()
    if amount >= t.high:
        return "高端"
    return "中端" if amount >= t.mid else "经济"

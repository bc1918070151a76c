"""What depends on the whole message, settled after the rules matched its words.

product.md, "How a message is read". Words alone cannot say everything its rules mean, so
this step, run on every message's hits, reads them together:
- Someone sent to look at a home where nothing broke is a visit to measure, not a repair.
- A repair request or a complaint is about work done, not a scope: no 需求. But breakage
  told without asking for a repair, in a message that names work to do (「老房子想翻新，
  墙皮都掉了」), describes the home before the work: no 报修, and wear is not 质量. 「不用来
  了」 takes a repair request back.
- 工装 wins: a shop being redone, whole or in part, is 工装, not 翻新 or 局部改造, and its
  全包 is not a home's 全屋.
- 翻新 said in so many words (翻新, 翻修, 重新装修) wins over rooms named on the way,
  unless only those rooms are done (只, 就, 其他…不动); an old home's 改造 that names its
  rooms is 局部改造. 翻新 wins over 家装.
- A whole home (全屋, 整套, 全包…) named with a style, a budget or a word of doing the
  work is 家装; so is a new flat (毛坯, 交房…) said to be renovated (装修).
- Children, the elderly or a pregnant woman named with materials: 关注:环保.
- Asking for a quote (意向:咨询报价) is also 关注:价格.
"""

from __future__ import annotations

import re

from .hits import TagHit

SCOPE = "需求"
HOME, COMMERCIAL, REFRESH, PART = "家装", "工装", "翻新", "局部改造"
WHOLE_HOME = ("空间", "全屋")
NEW_FLAT = ("户型", "新房")
REPAIR, COMPLAINT, VISIT = ("意向", "报修"), ("意向", "投诉"), ("意向", "预约量房")
QUALITY, HEALTH, PRICE = ("关注", "质量"), ("关注", "环保"), ("关注", "价格")
QUOTE = ("意向", "咨询报价")
DERIVED_PRICE = "关注:价格(询价)"
DERIVED_HOME = "需求:家装(整体)"
DERIVED_HEALTH = "关注:环保(人与材料)"

# Asking for a repair, not only telling of breakage.
_REQUEST_RE = re.compile(r"修|派|安排|处理|师傅|售后|保修|上门|过来看|来看|调一下|管")
_BREAKAGE_RE = re.compile(r"漏|裂|坏|掉|堵|渗|松|歪|鼓|霉|爆|碎|不亮|没电|跳闸|打不开|关不上|问题")
_REQUEST_TAKEN_BACK_RE = re.compile(
    r"不用(?:来|修|过来|上门|麻烦)|自己(?:弄|修|粘|搞|处理)(?:好|上)"
)
# Wear of an old home, which is not the quality of anyone's work.
_WEAR_WORDS = frozenset(("掉了", "掉", "脱落", "起皮", "掉漆", "脱皮", "发霉", "松了", "松动"))
_REFRESH_SAID = re.compile(r"翻新|翻修|重新装修|重装")
_ONLY_RE = re.compile(r"只|就|其他|其它|别的|其余")
# Doing the work, said of a whole home: 整套装下来, 全屋都要弄, 整套想做北欧风
_WORK_RE = re.compile(r"装修|装|弄|做|搞|设计|施工|交给你们|包给你们")
# A new flat being renovated: 毛坯…我们自己出钱装修 (装修公司 is who does it, not what)
_RENOVATE_RE = re.compile(r"装修(?!公司|好|完)|(?:要|想|准备|打算|开始)装(?!好|完)")
_VULNERABLE_RE = re.compile(r"宝宝|孩子|小孩|小朋友|婴儿|老人|孕妇|怀孕|备孕|过敏|身体不好")
_MATERIAL_RE = re.compile(r"材料|板材|油漆|墙漆|涂料|胶水|用料")


def _key(hit: TagHit) -> tuple[str, str]:
    return (hit.dimension, hit.value)


def _drop(hits: list[TagHit], *keys: tuple[str, str]) -> list[TagHit]:
    return [h for h in hits if _key(h) not in keys]


def _after_work(hits: list[TagHit], text: str) -> list[TagHit]:
    """Repairs and complaints: no scope; breakage before new work: no repair, wear no quality."""
    by_key = {_key(h): h for h in hits}
    repair = by_key.get(REPAIR)
    if repair is not None and _REQUEST_TAKEN_BACK_RE.search(text):
        hits = _drop(hits, REPAIR)
    elif repair is not None and VISIT in by_key and not _BREAKAGE_RE.search(text):
        hits = _drop(hits, REPAIR)  # 派人来看看房子: someone sent to measure, nothing broke
    elif REPAIR in by_key and COMPLAINT not in by_key:
        scoped = any(h.dimension == SCOPE for h in hits)
        if scoped and not _REQUEST_RE.search(text):
            quality = by_key.get(QUALITY)
            worn = quality is not None and set(quality.words) <= _WEAR_WORDS
            return _drop(hits, REPAIR, QUALITY) if worn else _drop(hits, REPAIR)
    keys = {_key(h) for h in hits}
    if REPAIR in keys or COMPLAINT in keys:
        return [h for h in hits if h.dimension != SCOPE]
    return hits


def _scope(hits: list[TagHit], text: str) -> list[TagHit]:
    keys = {_key(h) for h in hits}
    if (SCOPE, COMMERCIAL) in keys:
        return _drop(hits, (SCOPE, HOME), (SCOPE, REFRESH), (SCOPE, PART), WHOLE_HOME)
    if (SCOPE, REFRESH) in keys:
        hits = _drop(hits, (SCOPE, HOME))
        part = next((h for h in hits if _key(h) == (SCOPE, PART)), None)
        if part is not None:
            only = any(_ONLY_RE.search(w) for w in part.words)
            said = _REFRESH_SAID.search(text) and not only
            return _drop(hits, (SCOPE, PART) if said else (SCOPE, REFRESH))
        return hits
    if any(h.dimension == SCOPE for h in hits):
        return hits
    home = _home({_key(h): h for h in hits}, hits, text)
    return hits + [home] if home else hits


def _home(by_key: dict, hits: list[TagHit], text: str) -> TagHit | None:
    """家装 from a whole home with a style, a budget or doing the work; or a new flat
    being renovated."""
    whole = by_key.get(WHOLE_HOME)
    if whole is not None:
        support = [h for h in hits if h.dimension in ("风格", "预算")]
        work = _WORK_RE.search(text)
        if support or work:
            words = whole.words + (support[0].words if support else (work.group(0),))
            return TagHit(SCOPE, HOME, words, DERIVED_HOME)
    new_flat = by_key.get(NEW_FLAT)
    renovate = _RENOVATE_RE.search(text) if new_flat is not None else None
    if renovate:
        return TagHit(SCOPE, HOME, new_flat.words + (renovate.group(0),), DERIVED_HOME)
    return None


def _health(hits: list[TagHit], text: str) -> list[TagHit]:
    if any(_key(h) == HEALTH for h in hits):
        return hits
    person, material = _VULNERABLE_RE.search(text), _MATERIAL_RE.search(text)
    if person and material:
        words = tuple(sorted((person.group(0), material.group(0)), key=text.find))
        return hits + [TagHit(*HEALTH, words, DERIVED_HEALTH)]
    return hits


def _price(hits: list[TagHit]) -> list[TagHit]:
    """Asking for a quote is also a concern for the price (product.md)."""
    by_key = {_key(h): h for h in hits}
    quote = by_key.get(QUOTE)
    if quote is None or PRICE in by_key:
        return hits
    return hits + [TagHit(*PRICE, quote.words, DERIVED_PRICE)]


def refine(hits: list[TagHit], text: str) -> list[TagHit]:
    """The hits read together with the whole message (`text` normalised)."""
    hits = _after_work(hits, text)
    hits = _scope(hits, text)
    return _price(_health(hits, text))

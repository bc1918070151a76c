"""Text handling: width/case normalisation, clause breaks, and the private jieba tokenizer."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from pathlib import Path

import jieba

# Full-width ASCII (Ａ-Ｚ, ０-９, ，！) to half-width and A-Z to a-z, one char to one char,
# so offsets in the normalised text are offsets in the original too.
_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = 0x20  # ideographic space
_TABLE.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
for _fw in range(0xFF21, 0xFF3B):  # Ａ-Ｚ straight to a-z
    _TABLE[_fw] = _fw - 0xFEE0 + 32

# Traditional characters of the domain's words to simplified ones (a few customers type them).
_TRADITIONAL = "萬預裝報價廚衛臥風歐質環廳陽書兒舊門維錢設計費時間級現簡約單樓層塊發問題這們輕麼漏"
_SIMPLIFIED = "万预装报价厨卫卧风欧质环厅阳书儿旧门维钱设计费时间级现简约单楼层块发问题这们轻么漏"
_TABLE.update(str.maketrans(_TRADITIONAL, _SIMPLIFIED))

# Where a clause ends: negation and exclusions never reach across these.
CLAUSE_BREAKS = frozenset(",.;:!?，。；：！？、…~～\n\r\t ()（）[]【】\"'“”‘’")


# Pinyin initials customers type for domain words (ys 15w = 预算15万); two letters for two
# characters, so offsets still hold. Only initials no other common word shares.
_SHORTHAND = {"ys": "预算", "zx": "装修", "bj": "报价", "qb": "全包", "gq": "工期"}
_SHORTHAND_RE = re.compile(r"(?<![a-z])(?:" + "|".join(_SHORTHAND) + r")(?![a-z])")
# The letter o typed for a zero inside a number (2O万, 1oo万).
_LETTER_ZERO_RE = re.compile(r"(?<=\d)o+(?=[\d万w千k百])")
_LATIN_RE = re.compile("[a-z]")


def normalize(text: str) -> str:
    """Lower-case and half-width `text`, expand pinyin shorthand and read the letter o in a
    number as 0, without changing its length (offsets stay those of the original)."""
    text = text.translate(_TABLE)
    if not _LATIN_RE.search(text):
        return text
    text = _SHORTHAND_RE.sub(lambda m: _SHORTHAND[m.group(0)], text)
    return _LETTER_ZERO_RE.sub(lambda m: "0" * len(m.group(0)), text)


DATA_DIR = Path(__file__).resolve().parent / "data"
USERDICT_PATH = DATA_DIR / "userdict.txt"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _quiet_jieba() -> None:
    """jieba logs 'Building prefix dict…' at DEBUG on every load; keep the app log clean."""
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)


def _build() -> jieba.Tokenizer:
    """A fresh tokenizer: jieba's main dictionary plus ours, cache in the temp dir."""
    _quiet_jieba()
    tok = jieba.Tokenizer()
    # The prefix-dict cache is the same for any process using jieba's main
    # dictionary, so share one file in the temp dir instead of the cwd.
    tok.tmp_dir = tempfile.gettempdir()
    tok.cache_file = os.path.join(tok.tmp_dir, "jieba.cache")
    tok.initialize()
    for word, freq in read_userdict(USERDICT_PATH):
        tok.add_word(word, freq)
    return tok


def read_userdict(path: Path) -> list[tuple[str, int | None]]:
    """`word [freq]` lines; '#' starts a comment (jieba's own loader would add it as a word)."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("#", 1)[0].split()
        if parts:
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            entries.append((parts[0], freq))
    return entries


def get_tokenizer() -> jieba.Tokenizer:
    """The process-wide private tokenizer, built on first use (thread-safe)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build()
    return _tokenizer


def tokenize(text: str) -> list[str]:
    """Segment `text`; HMM is off because new-word guessing is slow and glues negators on."""
    return get_tokenizer().lcut(text, HMM=False)

"""Complaint numbers from the workbook's pattern, e.g. ``{branch}-{yy}{mm}{seq:03}`` → BJ01-2611-007.

The serial counts within everything the pattern fixes before it (branch and month for
the default), continuing after the highest number already used, so existing numbers
are never changed and a new one never collides with an old one.

Numbers never change once written, so a pattern is checked (``pattern_problem``) before
any number is made from it: only the tokens below, braces in pairs, one serial.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from xlcomplaints.core import cells
from xlcomplaints.core.models import Complaint, Settings
from xlcomplaints.i18n import Lang, pick, say

TOKEN = re.compile(r"\{(branch|yyyy|yy|mm|dd|seq)(?::0?(\d+))?\}")
#: What may stand in a pattern, as the messages list it.
ALLOWED_TOKENS = "{branch} {yyyy} {yy} {mm} {dd} {seq} {seq:03}"
#: Digits of the serial ({seq:09} at most: a billion complaints a month is plenty).
SEQ_WIDTH_MAX = 9
_BRACED = re.compile(r"\{[^{}]*\}")


def pattern_problem(pattern: str) -> tuple[str, dict[str, object]] | None:
    """Why numbers cannot be made faithfully from ``pattern`` (a message code and its
    parameters), or None when they can. Every ``{…}`` must be a known token — a width only
    on the serial —, no brace may stand alone, and there must be exactly one ``{seq}``."""
    seqs = 0
    for piece in _BRACED.finditer(pattern):
        m = TOKEN.fullmatch(piece[0])
        if m is None or (m[2] is not None and m[1] != "seq"):
            return "pattern.unknown_token", {"token": piece[0], "allowed": ALLOWED_TOKENS}
        if m[1] == "seq":
            seqs += 1
            if m[2] is not None and not 1 <= int(m[2]) <= SEQ_WIDTH_MAX:
                return "pattern.seq_width", {"token": piece[0], "max_width": SEQ_WIDTH_MAX}
    if set("{}") & set(_BRACED.sub("", pattern)):
        return "pattern.unbalanced", {"allowed": ALLOWED_TOKENS}
    if seqs != 1:
        return ("pattern.no_seq" if seqs == 0 else "pattern.many_seq"), {"allowed": ALLOWED_TOKENS}
    return None


#: Each token in a clerk's words (zh, en); ``{n}`` is the serial's width.
TOKEN_WORDS: dict[str, tuple[str, str]] = {
    "branch": ("网点代码", "branch code"),
    "yyyy": ("四位年份", "4-digit year"),
    "yy": ("两位年份", "2-digit year"),
    "mm": ("两位月份", "2-digit month"),
    "dd": ("两位日期", "2-digit day"),
    "seq": ("{n}位流水号", "{n}-digit serial number"),
}
_ZH_DIGITS = "零一二三四五六七八九"


def describe_pattern(pattern: str, branch: str, lang: str = "zh") -> str:
    """A number pattern in words a clerk understands, with an example from the branch's code:
    ``{branch}-{yy}{mm}{seq:03}`` → "网点代码 + “-” + 两位年份 + 两位月份 + 三位流水号，例如 2026年11月第7宗为 BJ01-2611007"."""
    zh = lang == Lang.ZH  # Chinese numerals for the widths, too
    pieces: list[str] = []
    parts = TOKEN.split(pattern)
    for i in range(0, len(parts), 3):  # [text, name, width, text, name, width, ...]
        if parts[i]:
            pieces.append(pick(lang, "“{}”", '"{}"').format(parts[i]))
        if i + 1 < len(parts):
            name, w = parts[i + 1], parts[i + 2]
            n = int(w) if w else 3
            pieces.append(say(TOKEN_WORDS[name], lang, n=_ZH_DIGITS[n] if zh and n < 10 else n))
    prefix, suffix, width = _prefix_and_width(pattern, branch, datetime(2026, 11, 1))
    example = f"{prefix}{7:0{width}d}{suffix}"
    return say(("{pieces}，例如 2026年11月第7宗为 {example}", "{pieces}; e.g. the 7th complaint of November 2026 is {example}"),
               lang, pieces=" + ".join(pieces), example=example)


def example_number(pattern: str, branch: str) -> str:
    """The longest number the pattern gives at its serial's width (for checking its length)."""
    prefix, suffix, width = _prefix_and_width(pattern, branch, datetime(2026, 12, 31))
    return f"{prefix}{'9' * width}{suffix}"


def _prefix_and_width(pattern: str, branch: str, when: datetime) -> tuple[str, str, int]:
    """Text before and after ``{seq}`` with the other tokens filled, and the serial's width."""
    values = {"branch": branch, "yyyy": f"{when:%Y}", "yy": f"{when:%y}", "mm": f"{when:%m}", "dd": f"{when:%d}"}
    width = 3
    parts = TOKEN.split(pattern)
    before: list[str] = []
    after: list[str] = []
    seen = False
    # TOKEN.split gives [text, name, width, text, name, width, ...]
    for i in range(0, len(parts), 3):
        (after if seen else before).append(parts[i])
        if i + 1 < len(parts):
            name, w = parts[i + 1], parts[i + 2]
            if name == "seq":
                seen, width = True, int(w) if w else 3
            else:
                (after if seen else before).append(values[name])
    return "".join(before), "".join(after), width


def assign_numbers(complaints: Sequence[Complaint], settings: Settings) -> dict[int, str]:
    """Row → new number, for complaints with a receipt time and no number.

    The pattern must have passed ``pattern_problem`` (a ValueError otherwise: a number
    made from a pattern that cannot be honoured would stay wrong for ever)."""
    problem = pattern_problem(settings.number_pattern)
    if problem is not None:
        raise ValueError(f"numbering pattern {settings.number_pattern!r}: {problem[0]}")
    used = {c.no for c in complaints if c.no}  # as read: canonical (see cells.fold_code)
    out: dict[int, str] = {}
    for c in sorted((c for c in complaints if not c.no and c.received_at and c.row),
                    key=lambda c: (c.received_at, c.row)):
        assert c.received_at is not None and c.row is not None
        prefix, suffix, width = _prefix_and_width(settings.number_pattern, settings.branch_code, c.received_at)
        # Numbers already used are compared as the Register reads them (bj01-x001 is BJ01-X001),
        # so a lower-case or full-width pattern never hands out a number twice.
        pat = re.compile(re.escape(cells.fold_code(prefix + "0")[:-1]) + r"(\d+)"
                         + re.escape(cells.fold_code("0" + suffix)[1:]) + r"$")
        highest = max((int(m.group(1)) for n in used if (m := pat.match(n))), default=0)
        no = f"{prefix}{highest + 1:0{width}d}{suffix}"
        used.add(cells.fold_code(no))
        out[c.row] = no
    return out

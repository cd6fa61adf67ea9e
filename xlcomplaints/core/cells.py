"""Cell values as clerks type them → typed values, or a coded CellError; never a guess.

Over 400 lines: every kind of cell's parser and the tables of forms it accepts are read side by side here.

Clerks type one date, phone or yes/no a dozen ways. Each ``parse_*`` accepts every
form with exactly one reading and raises ``CellError(code, **params)`` for the rest,
so the register can tell the clerk what to fix. Inputs are the Python values that
python-calamine, openpyxl or xlwings give for a cell (str, int, float, bool, datetime,
date, time, timedelta, None). Blank cells give None; each parser raises only CellError.

Text forms are matched by the declarative tables below (``_DATE_FORMS``,
``_DATE_MISTAKES``, ``_PERIODS``, ``_BOOL_WORDS``; phone numbers in ``core.phones``) after
NFKC normalisation, so full-width digits and punctuation need no special cases.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from xlcomplaints.core.problems import register_messages
from xlcomplaints.errors import XlcError
from xlcomplaints.spec.vocab import Choice

__all__ = [
    "MAX_YEAR", "MESSAGES", "MIN_YEAR", "CellError", "header_key", "normalize_text",
    "parse_bool", "parse_choice", "parse_date", "parse_datetime", "parse_int", "parse_number",
    "parse_text", "parse_time",
]

#: Dates outside these years are typos (1926 for 2026) or serials read as dates.
MIN_YEAR, MAX_YEAR = 1990, 2100

_EG_DATE = "2026-11-03 或 2026/11/3 14:05"
_EG_PHONE = "手机 13812345678，座机 010-12345678，分机写“转8001”"
MESSAGES: dict[str, tuple[str, str]] = {
    "date.unreadable": (f"无法识别的日期“{{value}}”，请填写如 {_EG_DATE}",
                        "Cannot read the date '{value}'; write it like 2026-11-03 or 2026/11/3 14:05"),
    "date.invalid": ("日期“{value}”不存在，请检查月份和日",
                     "'{value}' is not a real date; check the month and day"),
    "date.no_year": ("日期“{value}”缺少年份，请写完整，如 2026-11-03",
                     "The date '{value}' has no year; write it in full, like 2026-11-03"),
    "date.two_digit_year": ("日期“{value}”的年份请写满四位，如 2026-11-03",
                            "Write the year of '{value}' with four digits, like 2026-11-03"),
    "date.ambiguous": ("日期“{value}”看不出哪个是月、哪个是日，请按 年-月-日 填写，如 2026-11-03",
                       "In '{value}' day and month could be either way round; write year-month-day, like 2026-11-03"),
    "date.serial_as_text": ("“{value}”是 Excel 的日期序号（即 {date}），请直接填写日期 {date}",
                            "'{value}' is an Excel date number ({date}); type the date itself: {date}"),
    "date.out_of_range": ("日期 {date} 不在 {min}–{max} 年之间，请检查年份",
                          "The date {date} is not between {min} and {max}; check the year"),
    "date.has_time": ("这里只填日期，不填时间（“{value}”含时间 {time}）",
                      "Only a date goes here, no time ('{value}' has the time {time})"),
    "time.unreadable": ("无法识别的时间“{value}”，请填写如 14:05 或 下午2点5分",
                        "Cannot read the time '{value}'; write it like 14:05 or 2:05 pm"),
    "number.unreadable": ("“{value}”不是数字，请只填数字，如 1234.5",
                          "'{value}' is not a number; write digits only, like 1234.5"),
    "int.not_whole": ("这里要填整数，“{value}”带小数", "A whole number goes here; '{value}' has a fraction"),
    "bool.unknown": ("无法识别“{value}”，请填写 是 或 否", "Cannot read '{value}'; write yes or no (是 / 否)"),
    "text.too_long": ("内容太长（{length} 字），最多 {max_len} 字",
                      "Too long ({length} characters); at most {max_len}"),
    "choice.unknown": ("“{value}”不是可选项，请从中选择：{allowed}",
                       "'{value}' is not one of the options; choose from: {allowed_en}"),
    "phone.too_short": (f"电话号码“{{value}}”只有 {{digits}} 位数字，太短了；请填写如 {_EG_PHONE}",
                        "The phone number '{value}' has only {digits} digits; write it like 13812345678 or 010-12345678"),
    "phone.too_long": ("电话号码“{value}”有 {digits} 位数字，太长了；一格只填一个号码",
                       "The phone number '{value}' has {digits} digits, too many; one number per cell"),
    "phone.bad_chars": (f"电话号码“{{value}}”含有数字以外的字符；一格只填一个号码，如 {_EG_PHONE}",
                        "The phone number '{value}' has characters other than digits; one number per cell, "
                        "extension as 'ext 8001'"),
    "phone.unreadable": (f"无法识别的电话号码“{{value}}”，请填写如 {_EG_PHONE}",
                         "Cannot read the phone number '{value}'; write it like 13812345678 or 010-12345678"),
    "phone.scientific": ("电话号码显示成了科学计数法“{value}”，后几位已丢失；请把单元格设为文本后重新输入",
                         "The phone number '{value}' is in scientific notation and lost digits; "
                         "format the cell as text and type it again"),
    "phone.lost_zero": ("电话号码 {value} 开头的 0 丢了（单元格是数字格式）；请设为文本后填写 {suggestion}",
                        "The phone number {value} lost its leading 0 (the cell is a number); "
                        "format it as text and type {suggestion}"),
}
register_messages(MESSAGES)


class CellError(ValueError, XlcError):
    """An unreadable cell: ``code`` keys MESSAGES, ``params`` fill its templates.

    A ValueError so pydantic validators that call a parser report it as a validation error.
    """

    def __init__(self, code: str, **params: object) -> None:
        ValueError.__init__(self, code, params)
        self.code, self.params = code, params

    def __str__(self) -> str:
        return f"{self.code}: {self.message('en')}"


# ---------------------------------------------------------------------------- text

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HEADER_JUNK = re.compile(r"[\s_\-·・/\\()\[\]【】:;.,、。]+")


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width), zero-width chars and openpyxl's ``_x000D_`` gone,
    line breaks as ``\\n``, ends stripped; inner text is kept as typed."""
    text = unicodedata.normalize("NFKC", value.replace("_x000D_", "")).translate(_INVISIBLE)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def fold_code(value: str) -> str:
    """An identifier as it is matched across sheets (complaint numbers): ``normalize_text``, then
    ASCII letters upper-cased — bj01-2611001 and ＢＪ01-2611001 are BJ01-2611001."""
    return normalize_text(value).translate(_ASCII_UPPER)


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def clean_text(value: str) -> str:
    """Free text as typed: only invisible characters, openpyxl's ``_x000D_``, line-ending
    variants and the ends' whitespace go. No NFKC here — "，" and full-width letters in
    what a clerk wrote are the clerk's, not ours to change."""
    text = value.replace("_x000D_", "").translate(_INVISIBLE)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def header_key(value: object) -> str:
    """Key under which "投诉 编号", "投诉\\n编号", "Complaint No." and "complaint_no" compare equal."""
    try:
        text = normalize_text(value) if isinstance(value, str) else "" if value is None else _plain(value)
    except CellError:
        text = ""
    return _HEADER_JUNK.sub("", text.casefold())


def _plain(value: object) -> str:
    """A non-text cell as Excel's General format shows it (12345.0 → "12345")."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # beyond Python's int→str digit limit
            raise CellError("number.unreadable", value="(a number too long to show)") from None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ", "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):  # durations as Excel's [h]:mm:ss
        secs = round(value.total_seconds())
        h, rem = divmod(abs(secs), 3600)
        return f"{'-' if secs < 0 else ''}{h}:{rem // 60:02}:{rem % 60:02}"
    return str(value)


def _show(value: object) -> str:
    """The value quoted in a message: readable, short, and never raising."""
    try:
        text = normalize_text(value) if isinstance(value, str) else _plain(value)
    except CellError:
        text = "(…)"
    return text if len(text) <= 40 else text[:39] + "…"


def parse_text(value: object, *, max_len: int | None = None) -> str | None:
    """Any cell as text; numbers as Excel shows them, so IDs typed as numbers keep no ".0"."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError("number.unreadable", value=_show(value))
    text = clean_text(value) if isinstance(value, str) else _plain(value)
    if max_len is not None and len(text) > max_len:
        raise CellError("text.too_long", length=len(text), max_len=max_len)
    return text or None


# --------------------------------------------------------------------- dates & times

#: Period words → the 24-hour span they allow; "下午2点" is 14:00, "上午14点" is an error.
_PERIODS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 5), "早上": (5, 11), "早晨": (5, 11), "上午": (0, 11), "am": (0, 11),
    "中午": (11, 13), "下午": (12, 23), "pm": (12, 23), "傍晚": (16, 20), "晚上": (17, 23), "夜里": (18, 23),
}
#: Chinese time markers become colons first, so one time pattern reads "14时05分" and "14:05".
_CN_TIME = str.maketrans({"时": ":", "時": ":", "点": ":", "點": ":", "分": ":", "秒": "", "半": "30"})
_PERIOD = "|".join(sorted(_PERIODS, key=len, reverse=True))
_TIME = (rf"(?P<p1>{_PERIOD})?(?P<h>\d{{1,2}}):(?:(?P<mi>\d{{1,2}})"
         rf"(?::(?P<s>\d{{1,2}})(?:\.(?P<f>\d{{1,6}}))?)?)?:?(?P<p2>am|pm)?")
_TIME_RE = re.compile(_TIME, re.ASCII)

#: Accepted dates: the year always comes first, so there is exactly one reading.
_DATE_FORMS = tuple(re.compile(rf"{d}(?:(?:t| |(?<=[日号])|(?=\D)){_TIME})?", re.ASCII) for d in (
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",  # 2026-11-03, 2026/11/3, 2026.11.3
    r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?",              # 2026年11月3日
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",                             # 20261103
))
#: Forms clerks type that have no single reading: refused with a code that says why.
_DATE_MISTAKES = tuple((re.compile(p, re.ASCII), code) for p, code in (
    (r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?!\d)", "date.ambiguous"),        # 3/11/2026, 11/03/2026
    (r"\d{1,2}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)", "date.two_digit_year"),  # 26/11/3
    (r"\d{2}年\d{1,2}月", "date.two_digit_year"),                       # 26年11月3日
    (r"\d{1,2}[-/.]\d{1,2}(?![-/.\d])", "date.no_year"),               # 11/3, 11-3 14:05
    (r"\d{1,2}月\d{1,2}", "date.no_year"),                              # 11月3日
))
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)  # 45962: a serial pasted as text
_EXCEL_EPOCHS = {date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1), date(1904, 1, 1)}
_DAY_MS = 86_400_000


def _squash(value: str) -> str:
    """Date/time text with one spelling: lower case, CN markers as colons, and spaces
    kept only between two digits ("2026 / 11 / 3  14 : 05" → "2026/11/3 14:05")."""
    text = re.sub(r"\s+", " ", normalize_text(value).lower().translate(_CN_TIME))
    return re.sub(r"(?<!\d) | (?!\d)", "", text)


def _ymd(y: int, m: int, d: int, value: object) -> datetime:
    try:
        dt = datetime(y, m, d)
    except ValueError:
        raise CellError("date.invalid", value=_show(value)) from None
    return _in_range(dt, value)


def _in_range(dt: datetime, value: object) -> datetime:
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise CellError("date.out_of_range", value=_show(value), date=_plain(dt), min=MIN_YEAR, max=MAX_YEAR)
    return dt


def _from_serial(serial: float, date1904: bool, value: object) -> datetime:
    """Excel serial → datetime to the millisecond (the finest a double keeps for these dates).

    1900 system: serial 1 is 1900-01-01 and Excel counts a fake 1900-02-29 (serial 60),
    so serials from 61 on are one day behind the calendar.
    """
    days, ms = divmod(round(serial * _DAY_MS), _DAY_MS)
    if date1904:
        base = datetime(1904, 1, 1)
    elif days == 60:
        raise CellError("date.out_of_range", value=_show(value), date="1900-02-29", min=MIN_YEAR, max=MAX_YEAR)
    else:
        base = datetime(1899, 12, 30 if days > 60 else 31)
    return base + timedelta(days=days, milliseconds=ms)


def _hms(m: re.Match[str], value: object) -> time:
    """The time groups of a match; a period word picks the one reading of the hour it allows."""
    h, mi, s = int(m["h"]), int(m["mi"] or 0), int(m["s"] or 0)
    if m["p1"] and m["p2"]:
        h = 99
    elif period := m["p1"] or m["p2"]:
        lo, hi = _PERIODS[period]
        h = next((c for c in ((h,) if h > 12 else (h % 12, h % 12 + 12)) if lo <= c <= hi), 99)
    if h > 23 or mi > 59 or s > 59:
        raise CellError("time.unreadable", value=_show(value))
    return time(h, mi, s, int((m["f"] or "").ljust(6, "0")))


def _number_to_datetime(x: int | float, date1904: bool) -> datetime:
    if (isinstance(x, float) and not math.isfinite(x)) or x < 1:  # < 1: a bare time, not a date
        raise CellError("date.unreadable", value=_show(x))
    if x == int(x) and 10_000_000 <= x <= 99_999_999:  # 20261103 typed as a number
        n = int(x)
        return _ymd(n // 10_000, n // 100 % 100, n % 100, x)
    if x >= 100_000:  # beyond year 2173 in either system
        raise CellError("date.out_of_range", value=_show(x), date=_show(x), min=MIN_YEAR, max=MAX_YEAR)
    return _in_range(_from_serial(float(x), date1904, x), x)


def _text_to_datetime(value: str, date1904: bool) -> datetime | None:
    text = _squash(value)
    if not text:
        return None
    for form in _DATE_FORMS:
        if m := form.fullmatch(text):
            dt = _ymd(int(m["y"]), int(m["m"]), int(m["d"]), value)
            return datetime.combine(dt, _hms(m, value)) if m["h"] else dt
    if _SERIAL_TEXT.fullmatch(text):
        dt = _from_serial(float(text), date1904, value)
        if MIN_YEAR <= dt.year <= MAX_YEAR:
            raise CellError("date.serial_as_text", value=_show(value), date=_plain(dt))
    code = next((code for pattern, code in _DATE_MISTAKES if pattern.match(text)), "date.unreadable")
    raise CellError(code, value=_show(value))


def parse_datetime(value: object, *, date1904: bool = False) -> datetime | None:
    """A date or date-time cell; numbers are Excel serials (or YYYYMMDD), text year-first."""
    if value is None or isinstance(value, datetime):
        return value if value is None else _in_range(value, value)
    if isinstance(value, date):
        return _in_range(datetime.combine(value, time()), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_to_datetime(value, date1904)
    if isinstance(value, str):
        return _text_to_datetime(value, date1904)
    raise CellError("date.unreadable", value=_show(value))  # bool, time, timedelta


def parse_date(value: object, *, date1904: bool = False) -> date | None:
    """A date-only cell: a 00:00 time is dropped, any other time is refused, not truncated."""
    dt = parse_datetime(value, date1904=date1904)
    if dt is None:
        return None
    if dt.time() != time(0):
        raise CellError("date.has_time", value=_show(value), time=dt.time().isoformat("seconds"))
    return dt.date()


def parse_time(value: object) -> time | None:
    """A time of day: time cells, Excel day fractions (0.375 → 09:00) and typed times."""
    if value is None or isinstance(value, time):
        return value
    if isinstance(value, datetime) and value.date() in _EXCEL_EPOCHS:  # a time cell read as a datetime
        return value.time()
    if isinstance(value, timedelta) and timedelta(0) <= value < timedelta(days=1):
        return (datetime.min + value).time()
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        ms = round(value * _DAY_MS)
        if ms < _DAY_MS:
            return (datetime.min + timedelta(milliseconds=ms)).time()
    if isinstance(value, str):
        text = _squash(value)
        if not text:
            return None
        if m := _TIME_RE.fullmatch(text):
            return _hms(m, value)
    raise CellError("time.unreadable", value=_show(value))


# --------------------------------------------------------------------------- numbers

#: Plain decimals, thousands commas, exponent, an optional ¥ / 元 / % ; nothing Python-only like "1_000" or "nan".
_NUMBER_RE = re.compile(
    r"¥?(?P<n>[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?:元|(?P<pct>%))?",
    re.ASCII | re.IGNORECASE)


def parse_number(value: object) -> float | None:
    """A number cell, or text that is plainly one ("1,234.5", "¥80", "5%" → 0.05)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
    elif isinstance(value, str):
        text = re.sub(r"\s+", "", normalize_text(value))
        if not text:
            return None
        m = _NUMBER_RE.fullmatch(text)
        x = float(m["n"].replace(",", "")) / (100 if m["pct"] else 1) if m else math.nan
    else:
        x = math.nan
    if not math.isfinite(x):
        raise CellError("number.unreadable", value=_show(value))
    return x


def parse_int(value: object) -> int | None:
    """A whole number; "3.0" is 3 but 3.5 is refused rather than rounded."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", text := normalize_text(value), re.ASCII):
        try:  # exact, even past float precision
            return int(text)
        except ValueError:  # beyond Python's str→int digit limit
            raise CellError("number.unreadable", value=_show(value)) from None
    x = parse_number(value)
    if x is None:
        return None
    if not x.is_integer():
        raise CellError("int.not_whole", value=_show(value))
    return int(x)


_BOOL_WORDS: dict[str, bool] = {
    **dict.fromkeys(("是", "y", "yes", "true", "1", "√", "✓", "✔", "对", "有"), True),
    **dict.fromkeys(("否", "n", "no", "false", "0", "×", "✗", "✘", "错", "无", "没有"), False),
}


def parse_bool(value: object) -> bool | None:
    """Yes/no as clerks write it; "x" is refused because some offices tick with it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = re.sub(r"\s+", "", normalize_text(value).casefold())
        if not word:
            return None
        if word in _BOOL_WORDS:
            return _BOOL_WORDS[word]
    raise CellError("bool.unknown", value=_show(value))


# --------------------------------------------------------------------------- choices

@lru_cache(maxsize=256)
def _choice_index(choices: tuple[Choice, ...]) -> dict[str, str]:
    """header_key of every label → code; two choices sharing a label is a spec bug."""
    index: dict[str, str] = {}
    for c in choices:
        for label in (c.code, c.zh, c.en, *c.aliases):
            if (key := header_key(label)) and index.setdefault(key, c.code) != c.code:
                raise ValueError(f"choices {index[key]!r} and {c.code!r} share the label {label!r}")
    return index


def parse_choice(value: object, choices: Sequence[Choice]) -> str | None:
    """The code of the choice whose code, zh, en label or alias the cell spells
    (ignoring case, width, spaces and punctuation)."""
    if value is None or (isinstance(value, str) and not normalize_text(value)):
        return None
    code = _choice_index(tuple(choices)).get(header_key(value))
    if code is None:
        raise CellError("choice.unknown", value=_show(value), allowed=" / ".join(c.zh for c in choices),
                        allowed_en=" / ".join(c.en or c.code for c in choices))
    return code

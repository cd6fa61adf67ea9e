"""Cell parsers: a table of what clerks really type, round-trip properties, and a fuzz
that no exception other than CellError can escape."""

from __future__ import annotations

import pickle
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcomplaints.core import cells
from xlcomplaints.core.cells import (
    MESSAGES,
    CellError,
    header_key,
    normalize_text,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_int,
    parse_number,
    parse_text,
    parse_time,
)
from xlcomplaints.core.phones import parse_phone
from xlcomplaints.spec.vocab import Choice


@dataclass(frozen=True)
class Err:
    code: str


STATUS = (
    Choice("open", "待处理", "Open", aliases=("未处理", "new")),
    Choice("in_progress", "办理中", "In progress", aliases=("处理中",)),
    Choice("closed", "已办结", "Closed", aliases=("结案", "已结案")),
)


def status(value: object) -> str | None:
    return parse_choice(value, STATUS)


def date1904(value: object) -> datetime | None:
    return parse_datetime(value, date1904=True)


def text5(value: object) -> str | None:
    return parse_text(value, max_len=5)


D = datetime(2026, 11, 3)
DT = datetime(2026, 11, 3, 14, 5)
CASES: list[tuple[Callable[[object], object], object, object]] = [
    # --- datetimes: cells, serials, every accepted text form
    (parse_datetime, DT, DT),
    (parse_datetime, date(2026, 11, 3), D),
    (parse_datetime, 46329, D),                      # 1900 serial
    (parse_datetime, 46329.0, D),                    # the same from xlwings
    (parse_datetime, 46329.5868055556, DT),          # with a time part
    (date1904, 44867, D),                            # 1904 serial
    (parse_datetime, 20261103, D),                   # YYYYMMDD typed as a number
    (parse_datetime, 20261103.0, D),
    (parse_datetime, "2026/11/3", D),
    (parse_datetime, "2026-11-03", D),
    (parse_datetime, "2026-11-03 14:05", DT),
    (parse_datetime, "2026-11-03T14:05:00", DT),
    (parse_datetime, "2026.11.3", D),
    (parse_datetime, "2026年11月3日", D),
    (parse_datetime, "2026年11月3号", D),
    (parse_datetime, "2026年11月3日 14时05分", DT),
    (parse_datetime, "2026年11月3日14:05", DT),
    (parse_datetime, "2026年11月3日 下午2点5分", DT),
    (parse_datetime, "2026年11月3日 上午9点半", datetime(2026, 11, 3, 9, 30)),
    (parse_datetime, "2026年11月3日 晚上8点", datetime(2026, 11, 3, 20)),
    (parse_datetime, "2026-11-03 2:05 PM", DT),
    (parse_datetime, "２０２６／１１／３", D),
    (parse_datetime, "２０２６－１１－０３　１４：０５", DT),
    (parse_datetime, "2026/11/3 14:05:30", datetime(2026, 11, 3, 14, 5, 30)),
    (parse_datetime, "20261103", D),
    (parse_datetime, "  2026 / 11 / 3   14 : 05 ", DT),
    (parse_datetime, "2026 年 11 月 3 日", D),
    (parse_datetime, "", None),
    (parse_datetime, " \n ", None),
    (parse_datetime, None, None),
    # --- dates that must not be guessed
    (parse_datetime, "11/3", Err("date.no_year")),
    (parse_datetime, "11月3日", Err("date.no_year")),
    (parse_datetime, "11-3 14:05", Err("date.no_year")),
    (parse_datetime, "26/11/3", Err("date.two_digit_year")),
    (parse_datetime, "26年11月3日", Err("date.two_digit_year")),
    (parse_datetime, "3/11/2026", Err("date.ambiguous")),
    (parse_datetime, "11/03/2026", Err("date.ambiguous")),
    (parse_datetime, "2026-13-01", Err("date.invalid")),
    (parse_datetime, "2026-02-30", Err("date.invalid")),
    (parse_datetime, 20260230, Err("date.invalid")),
    (parse_datetime, "明天", Err("date.unreadable")),
    (parse_datetime, "2026-11-0314:05", Err("date.unreadable")),  # no separator: 3 14:05 or 31 4:05?
    (parse_datetime, "2026/11-3", Err("date.unreadable")),        # mixed separators
    (parse_datetime, "45962", Err("date.serial_as_text")),
    (parse_datetime, "1989-12-31", Err("date.out_of_range")),
    (parse_datetime, "2101-01-01", Err("date.out_of_range")),
    (parse_datetime, datetime(1926, 11, 3), Err("date.out_of_range")),
    (parse_datetime, 60, Err("date.out_of_range")),                # Excel's fake 1900-02-29
    (parse_datetime, 1e9, Err("date.out_of_range")),
    (parse_datetime, 0.5, Err("date.unreadable")),                 # a bare time is no date
    (parse_datetime, -3, Err("date.unreadable")),
    (parse_datetime, True, Err("date.unreadable")),
    (parse_datetime, time(14, 5), Err("date.unreadable")),
    (parse_datetime, "2026-11-03 25:00", Err("time.unreadable")),
    (parse_datetime, "2026年11月3日 上午14点", Err("time.unreadable")),
    # --- date-only fields
    (parse_date, "2026-11-03", date(2026, 11, 3)),
    (parse_date, D, date(2026, 11, 3)),
    (parse_date, "2026-11-03 00:00", date(2026, 11, 3)),
    (parse_date, 46329.0, date(2026, 11, 3)),
    (parse_date, "2026-11-03 14:05", Err("date.has_time")),
    (parse_date, 46329.5, Err("date.has_time")),
    # --- times
    (parse_time, "9:00", time(9)),
    (parse_time, "09:00:00", time(9)),
    (parse_time, 0.375, time(9)),
    (parse_time, 0, time(0)),
    (parse_time, time(14, 5), time(14, 5)),
    (parse_time, datetime(1899, 12, 30, 9, 30), time(9, 30)),   # a time cell read as datetime
    (parse_time, timedelta(hours=9), time(9)),
    (parse_time, "14时05分", time(14, 5)),
    (parse_time, "下午2点半", time(14, 30)),
    (parse_time, "12:30 am", time(0, 30)),
    (parse_time, "１４：０５", time(14, 5)),
    (parse_time, "25:00", Err("time.unreadable")),
    (parse_time, "9", Err("time.unreadable")),
    (parse_time, 1.5, Err("time.unreadable")),
    (parse_time, "晚上12点", Err("time.unreadable")),
    (parse_time, DT, Err("time.unreadable")),
    # --- phones
    (parse_phone, 13812345678, "13812345678"),
    (parse_phone, 13812345678.0, "13812345678"),
    (parse_phone, 1.3812345678e10, "13812345678"),
    (parse_phone, "138 1234 5678", "13812345678"),
    (parse_phone, "138-1234-5678", "13812345678"),
    (parse_phone, "+86 138 1234 5678", "13812345678"),
    (parse_phone, "0086-138-1234-5678", "13812345678"),
    (parse_phone, "13812345678.0", "13812345678"),
    (parse_phone, "１３８１２３４５６７８", "13812345678"),
    (parse_phone, "(010) 1234-5678", "010-12345678"),
    (parse_phone, "+86 10 1234 5678", "010-12345678"),
    (parse_phone, "0571-8888888", "0571-8888888"),
    (parse_phone, "010-12345678转8001", "010-12345678转8001"),
    (parse_phone, "010-12345678 ext. 8001", "010-12345678转8001"),
    (parse_phone, "010-12345678-8001", "010-12345678转8001"),
    (parse_phone, "400-123-4567", "400-123-4567"),
    (parse_phone, "88886666", "88886666"),
    (parse_phone, "+44 20 7946 0958", "+442079460958"),
    (parse_phone, "  ", None),
    (parse_phone, "12345", Err("phone.too_short")),
    (parse_phone, "1381234567", Err("phone.too_short")),
    (parse_phone, "138123456789", Err("phone.too_long")),
    (parse_phone, "abc", Err("phone.bad_chars")),
    (parse_phone, "13812345678/13987654321", Err("phone.bad_chars")),
    (parse_phone, "1.38123E+10", Err("phone.scientific")),
    (parse_phone, 1012345678, Err("phone.lost_zero")),
    (parse_phone, 13812345678.5, Err("phone.unreadable")),
    (parse_phone, "23812345678", Err("phone.unreadable")),
    (parse_phone, True, Err("phone.unreadable")),
    # --- choices
    (status, "open", "open"),
    (status, "待处理", "open"),
    (status, "Open", "open"),
    (status, "未处理", "open"),
    (status, "ＯＰＥＮ", "open"),
    (status, " 待 处理 ", "open"),
    (status, "in-progress", "in_progress"),
    (status, "IN PROGRESS", "in_progress"),
    (status, "已结案", "closed"),
    (status, "", None),
    (status, "作废", Err("choice.unknown")),
    (status, 3, Err("choice.unknown")),
    # --- booleans
    (parse_bool, "是", True),
    (parse_bool, "否", False),
    (parse_bool, "Y", True),
    (parse_bool, "ｎｏ", False),
    (parse_bool, "TRUE", True),
    (parse_bool, " false ", False),
    (parse_bool, "√", True),
    (parse_bool, "×", False),
    (parse_bool, "✓", True),
    (parse_bool, "✗", False),
    (parse_bool, "对", True),
    (parse_bool, "无", False),
    (parse_bool, 1.0, True),
    (parse_bool, 0, False),
    (parse_bool, False, False),
    (parse_bool, "", None),
    (parse_bool, "x", Err("bool.unknown")),
    (parse_bool, 2, Err("bool.unknown")),
    (parse_bool, D, Err("bool.unknown")),
    # --- numbers and ints
    (parse_number, 3, 3.0),
    (parse_number, "1,234.5", 1234.5),
    (parse_number, "１２３", 123.0),
    (parse_number, "-0.5", -0.5),
    (parse_number, "1.5e3", 1500.0),
    (parse_number, "5%", 0.05),
    (parse_number, "¥80", 80.0),
    (parse_number, "80元", 80.0),
    (parse_number, "", None),
    (parse_number, "12,34", Err("number.unreadable")),
    (parse_number, "nan", Err("number.unreadable")),
    (parse_number, "1_000", Err("number.unreadable")),
    (parse_number, float("inf"), Err("number.unreadable")),
    (parse_number, True, Err("number.unreadable")),
    (parse_number, "三", Err("number.unreadable")),
    (parse_int, "3.0", 3),
    (parse_int, 3.0, 3),
    (parse_int, " 42 ", 42),
    (parse_int, "12345678901234567890", 12345678901234567890),
    (parse_int, "3.5", Err("int.not_whole")),
    (parse_int, 3.5, Err("int.not_whole")),
    (parse_int, "abc", Err("number.unreadable")),
    # --- text
    (parse_text, 12345.0, "12345"),
    (parse_text, 12345, "12345"),
    (parse_text, 0.1, "0.1"),
    (parse_text, "  投诉\r\n内容  ", "投诉\n内容"),
    (parse_text, "ＡＢＣ１２３", "ＡＢＣ１２３"),  # free text is kept as typed
    (parse_text, " 请尽快处理，谢谢！\r\n", "请尽快处理，谢谢！"),
    (parse_text, " \t ", None),
    (parse_text, D, "2026-11-03"),
    (parse_text, DT, "2026-11-03 14:05:00"),
    (parse_text, True, "TRUE"),
    (text5, "12345", "12345"),
    (text5, "123456", Err("text.too_long")),
    (parse_text, float("nan"), Err("number.unreadable")),
]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _assert_renders(err: CellError) -> None:
    assert err.code in MESSAGES, err.code
    for lang, template in zip(("zh", "en"), MESSAGES[err.code], strict=True):
        assert _fields(template) <= set(err.params), (err.code, lang)
        assert err.message(lang)


@pytest.mark.parametrize(("parse", "value", "expected"), CASES,
                         ids=[f"{p.__name__}-{v!r}" for p, v, _ in CASES])
def test_cell(parse: Callable[[object], object], value: object, expected: object) -> None:
    if isinstance(expected, Err):
        with pytest.raises(CellError) as info:
            parse(value)
        assert info.value.code == expected.code, info.value.params
        _assert_renders(info.value)
    else:
        result = parse(value)
        assert result == expected
        assert type(result) is type(expected)


def test_every_code_raised_has_a_message_and_a_table_row() -> None:
    source = Path(cells.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'"((?:date|time|number|int|bool|text|choice|phone)\.[a-z_]+)"', source))
    assert raised <= set(MESSAGES)
    assert {e.code for _, _, e in CASES if isinstance(e, Err)} == set(MESSAGES)


def test_messages_are_bilingual_and_nonempty() -> None:
    for code, (zh, en) in MESSAGES.items():
        assert zh and en and zh != en, code
        assert re.search(r"[\u4e00-\u9fff]", zh), code


@pytest.mark.parametrize(("a", "b"), [
    ("投诉 编号", "投诉编号"), ("投诉\n编号", "投诉编号"), ("投诉编号（必填）", "投诉编号(必填)"),
    ("Complaint No.", "complaint_no"), ("COMPLAINT-NO", "complaint no"), ("受理日期：", "受理日期"),
    ("ＩＤ", "id"), ("联系·电话", "联系电话"),
])
def test_header_key_matches_variants(a: str, b: str) -> None:
    assert header_key(a) == header_key(b)


def test_header_key_and_normalize_text_edges() -> None:
    assert header_key(None) == "" and header_key(2026.0) == "2026"
    assert normalize_text("\ufeff ａｂｃ\u200b \r\n x_x000D_ ") == "abc \n x"


def test_choice_label_shared_by_two_choices_is_a_spec_bug() -> None:
    with pytest.raises(ValueError, match="share"):
        parse_choice("x", (Choice("a", "甲", "A", ("同",)), Choice("b", "乙", "B", ("同",))))


def test_choice_accepts_any_object_of_the_same_shape() -> None:
    @dataclass(frozen=True)
    class Other:
        code: str
        zh: str
        en: str
        aliases: tuple[str, ...] = ()

    assert parse_choice("Yes", (Other("y", "是", "Yes"), Other("n", "否", "No"))) == "y"


def test_cell_error_pickles_and_reads() -> None:
    err = pickle.loads(pickle.dumps(CellError("choice.unknown", value="x", allowed="甲", allowed_en="A")))
    assert (err.code, err.params["allowed"]) == ("choice.unknown", "甲")
    assert isinstance(err, ValueError) and "choice.unknown" in str(err)


# ----------------------------------------------------------------- round trips

FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
DATETIME_FORMS: list[Callable[[datetime], str]] = [
    lambda d: f"{d:%Y-%m-%d %H:%M:%S}",
    lambda d: f"{d:%Y-%m-%dT%H:%M:%S}",
    lambda d: f"{d.year}/{d.month}/{d.day} {d.hour}:{d:%M:%S}",
    lambda d: f"{d.year}.{d.month}.{d.day} {d:%H:%M:%S}",
    lambda d: f"{d:%Y%m%d} {d:%H:%M:%S}",
    lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour}时{d.minute}分{d.second}秒",
    lambda d: f"{d.year}年{d.month}月{d.day}日{d:%H:%M:%S}",
    lambda d: f"{d.year}年{d.month}月{d.day}日 {'上午' if d.hour < 12 else '下午'}"
              f"{d.hour if d.hour < 12 else d.hour - 12 or 12}点{d.minute}分{d.second}秒",
    lambda d: f"{d:%Y-%m-%d} {d.hour % 12 or 12}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}",
    lambda d: f"{d:%Y/%m/%d %H:%M:%S}".translate(FULL_WIDTH).replace(" ", "\u3000"),
    lambda d: f"  {d.year} / {d.month} / {d.day}   {d.hour} : {d:%M} : {d:%S} ",
]
DATE_FORMS: list[Callable[[date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: f"{d.year}/{d.month}/{d.day}".translate(FULL_WIDTH),
]
IN_RANGE = {"min_value": datetime(1990, 1, 1), "max_value": datetime(2100, 12, 31, 23, 59, 59, 999999)}
seconds = st.datetimes(**IN_RANGE).map(lambda d: d.replace(microsecond=0))
millis = st.datetimes(**IN_RANGE).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
days = st.dates(date(1990, 1, 1), date(2100, 12, 31))


def _serial(d: datetime, date1904: bool) -> float:
    return (d - datetime(*((1904, 1, 1) if date1904 else (1899, 12, 30)))) / timedelta(days=1)


@given(seconds, st.sampled_from(DATETIME_FORMS))
def test_datetime_text_round_trip(d: datetime, form: Callable[[datetime], str]) -> None:
    assert parse_datetime(form(d)) == d


@given(days, st.sampled_from(DATE_FORMS))
def test_date_text_round_trip(d: date, form: Callable[[date], str]) -> None:
    assert parse_date(form(d)) == d


@given(millis, st.booleans())
def test_serial_round_trip(d: datetime, date1904: bool) -> None:
    assert parse_datetime(_serial(d, date1904), date1904=date1904) == d


@given(st.datetimes(**IN_RANGE), st.booleans())
def test_serial_keeps_the_millisecond(d: datetime, date1904: bool) -> None:
    got = parse_datetime(_serial(d, date1904), date1904=date1904)
    assert got is not None and abs(got - d) <= timedelta(microseconds=501)


@given(days, st.booleans())
def test_date_serial_and_yyyymmdd_round_trip(d: date, date1904: bool) -> None:
    serial = round(_serial(datetime.combine(d, time()), date1904))
    assert parse_date(serial, date1904=date1904) == d
    assert parse_date(float(serial), date1904=date1904) == d
    assert parse_date(int(f"{d:%Y%m%d}")) == d == parse_date(float(f"{d:%Y%m%d}"))


@given(st.times().map(lambda t: t.replace(microsecond=0)))
def test_time_round_trip(t: time) -> None:
    h12 = t.hour % 12 or 12
    for typed in (f"{t:%H:%M:%S}", f"{t.hour}:{t:%M:%S}", f"{t.hour}时{t.minute}分{t.second}秒",
                  f"{'上午' if t.hour < 12 else '下午'}{t.hour if t.hour < 12 else h12}点{t.minute}分{t.second}秒",
                  f"{h12}:{t:%M:%S} {'am' if t.hour < 12 else 'pm'}",
                  (t.hour * 3600 + t.minute * 60 + t.second) / 86400):
        assert parse_time(typed) == t, typed


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(mobiles)
def test_mobile_forms(m: str) -> None:
    for typed in (m, int(m), float(m), f"{m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}",
                  f"+86 {m}", f"0086{m}", f"86-{m}", m.translate(FULL_WIDTH)):
        assert parse_phone(typed) == m, typed


@given(st.sampled_from(["010", "021", "0571", "0755"]), st.from_regex(r"[1-9][0-9]{7}", fullmatch=True),
       st.sampled_from(["", "8001", "12"]))
def test_landline_forms(area: str, local: str, ext: str) -> None:
    want = f"{area}-{local}" + (f"转{ext}" if ext else "")
    tail = f"转{ext}" if ext else ""
    for typed in (f"{area}-{local}{tail}", f"({area}) {local[:4]}-{local[4:]}{tail}", f"{area}{local}{tail}",
                  f"+86 {area[1:]} {local}{tail}", f"{area}-{local}" + (f" ext {ext}" if ext else ""),
                  f"{area}-{local}" + (f"-{ext}" if ext else ""), want):
        assert parse_phone(typed) == want, typed


# ------------------------------------------------------------------------- fuzz

PARSERS: list[Callable[[object], object]] = [
    parse_text, text5, parse_datetime, date1904, parse_date, parse_time, parse_int, parse_number,
    parse_bool, parse_phone, status, header_key,
]
CELLISH = "0123456789０１２ -/.:,年月日号时分秒点半上下午晚凌晨中Tt+()（）转ext#%¥元eE是否√×\n"
anything = st.one_of(st.text(), st.text(CELLISH), st.integers(), st.floats(allow_nan=True), st.datetimes(),
                     st.dates(), st.times(), st.timedeltas(), st.booleans(), st.none())


@settings(max_examples=600)
@given(anything)
def test_nothing_but_cell_error_escapes(value: object) -> None:
    for parse in PARSERS:
        try:
            result = parse(value)
        except CellError as err:
            _assert_renders(err)
        else:
            if parse is parse_phone and result is not None:
                assert parse_phone(result) == result  # canonical forms read back as themselves

"""Cell values and references as SpreadsheetML stores them, for the xlsx writer (package.py).

Excel's limits, A1 references and ranges, the _xHHHH_ escape, date serials, and the
checking and encoding of a value before anything is edited. Every other layer uses these,
so this module depends on nothing else in the writer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

CellValue = str | int | float | bool | dt.datetime | dt.date | None

MAX_ROW = 1_048_576
MAX_COL = 16_384
MAX_TEXT = 32_767  # Excel's limit on characters in a cell
COL_NAMES = [""]
for _i in range(1, MAX_COL + 1):
    _n, _s = _i, ""
    while _n:
        _n, _r = divmod(_n - 1, 26)
        _s = chr(65 + _r) + _s
    COL_NAMES.append(_s)
COL_NUMS = {name: i for i, name in enumerate(COL_NAMES) if i}

# Excel's escape for characters XML 1.0 cannot carry (ST_Xstring): _xHHHH_. A literal
# "_xHHHH_" in the data must have its underscore escaped, or readers would decode it.
_TO_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
_SURROGATE = re.compile("[\ud800-\udfff]")
Encoded = tuple[str, str] | None  # ("n"|"b"|"s", text) or None for "clear"


def escape_text(text: str) -> str:
    """Encode a string the way Excel stores it in <t> (only what XML cannot hold)."""
    if _TO_ESCAPE.search(text) is None:
        return text
    return _TO_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def unescape_text(text: str) -> str:
    """Inverse of escape_text (as Excel and calamine read it)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


EPOCH_1900 = dt.datetime(1899, 12, 31)
EPOCH_1904 = dt.datetime(1904, 1, 1)
US_PER_DAY = 86_400_000_000


def excel_serial(value: dt.date, date1904: bool = False) -> float | int:
    """Date/datetime -> Excel serial number (1900 system keeps Excel's fake 1900-02-29)."""
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("timezone-aware datetime: convert to local wall time first")
        if type(value) is dt.datetime:  # one subtraction: whole days + integer microseconds
            delta = value - epoch
            days = delta.days
            frac = (delta.seconds * 1_000_000 + delta.microseconds) / US_PER_DAY
        else:  # subclasses (pandas) may carry more precision in their subtraction
            day = value.date()
            days = (day - epoch.date()).days
            frac = (value - dt.datetime.combine(day, dt.time())) / dt.timedelta(days=1)
    else:
        days, frac = (value - epoch.date()).days, 0.0
    if not date1904:
        days += days >= 60  # serial 60 is the non-existent 1900-02-29
    if days < (0 if date1904 else 1):
        raise ValueError(f"date {value!r} is before the workbook's epoch")
    return days + frac if frac else days


def number_text(value: float | int) -> str:
    if isinstance(value, int):
        return str(int(value))
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be stored in a cell")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def encode(value: CellValue, date1904: bool) -> Encoded:
    """Validate and encode one value up front, so a bad value fails before any edit."""
    if value is None:
        return None
    kind = type(value)
    if kind is float:  # the common cases first: this runs once per cell
        if value.is_integer() and abs(value) < 1e15:  # type: ignore[union-attr,arg-type]
            return ("n", str(int(value)))  # type: ignore[arg-type]
        if math.isfinite(value):  # type: ignore[arg-type]
            return ("n", repr(value))
        raise ValueError(f"{value!r} cannot be stored in a cell")
    if kind is int:
        return ("n", str(value))
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"string of {len(value)} characters exceeds Excel's {MAX_TEXT}")
        if not value.isascii() and _SURROGATE.search(value):
            raise ValueError("string contains a lone surrogate")
        return ("s", value)
    if kind is dt.datetime:
        return ("n", number_text(excel_serial(value, date1904)))  # type: ignore[arg-type]
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, int | float):
        return ("n", number_text(value))
    if isinstance(value, dt.date):
        return ("n", number_text(excel_serial(value, date1904)))
    raise TypeError(f"unsupported cell value type: {type(value).__name__}")


_LOWEST = {False: dt.datetime(1900, 1, 1), True: dt.datetime(1904, 1, 1)}  # serial 1 and 0


def check_row(values: Sequence[CellValue], date1904: bool) -> int:
    """Check values as encode would (raising its errors) without encoding them.

    Returns a mask with bit i set where values[i] is not None. Only the common exact types
    are checked inline; anything else goes through encode.
    """
    mask, lowest = 0, _LOWEST[date1904]
    for i, value in enumerate(values):
        if value is None:
            continue
        mask |= 1 << i
        kind = type(value)
        if (
            (kind is str and len(value) <= MAX_TEXT and (value.isascii() or not _SURROGATE.search(value)))  # type: ignore[arg-type,union-attr]
            or (kind is float and math.isfinite(value))  # type: ignore[arg-type]
            or (kind is dt.datetime and value.tzinfo is None and value >= lowest)  # type: ignore[union-attr,operator]
            or kind is int
            or kind is bool
        ):
            continue
        encode(value, date1904)
    return mask


def cell_ref(col: int, row: int) -> str:
    return f"{COL_NAMES[col]}{row}"


def parse_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (12, 28); '$' signs allowed."""
    ref = ref.replace("$", "").upper()
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :]), COL_NUMS[letters]


def parse_range(ref: str | None) -> tuple[int, int, int, int] | None:
    try:
        first, _, last = (ref or "").partition(":")
        r1, c1 = parse_ref(first)
        r2, c2 = parse_ref(last) if last else (r1, c1)
    except (KeyError, ValueError):
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return cell_ref(c1, r1) if (r1, c1) == (r2, c2) else f"{cell_ref(c1, r1)}:{cell_ref(c2, r2)}"


def union(
    a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def check_cell(row: int, col: int) -> None:
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise ValueError(f"cell ({row}, {col}) is outside the sheet (1-based row, col)")

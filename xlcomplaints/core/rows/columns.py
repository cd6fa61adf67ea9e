"""Cells to typed values: ``parse_cell`` for one cell, and a block's column at once (cells already clean taken as they are)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import is_not
from typing import Any, TypeGuard

from xlcomplaints.core import cells, phones
from xlcomplaints.spec.model import ColType, Column, Field


def parse_cell(value: object, col: Column | Field, *, date1904: bool = False) -> Any:
    """One cell to a typed value; raises ``cells.CellError`` when it cannot be read."""
    t = col.type
    if t in (ColType.TEXT, ColType.LONGTEXT):
        return cells.parse_text(value, max_len=getattr(col, "max_len", None))
    if t is ColType.CODE:  # matched across sheets: full-width forms and ASCII case folded (bj01 is BJ01)
        text = cells.parse_text(value, max_len=getattr(col, "max_len", None))
        return cells.fold_code(text) or None if text else None
    if t is ColType.DATETIME:
        return cells.parse_datetime(value, date1904=date1904)
    if t is ColType.DATE:
        return cells.parse_date(value, date1904=date1904)
    if t is ColType.TIME:
        return cells.parse_time(value)
    if t is ColType.PHONE:
        return phones.parse_phone(value)
    if t is ColType.BOOL:
        return cells.parse_bool(value)
    if t is ColType.CHOICE:
        assert col.vocab is not None
        return cells.parse_choice(value, col.vocab.choices)
    number = cells.parse_int(value) if t is ColType.INT else cells.parse_number(value)
    if t is ColType.PERCENT and number is not None:
        return number
    if number is not None:
        if col.min_value is not None and number < col.min_value:
            raise cells.CellError("number.too_small", value=number, min=f"{col.min_value:g}")
        if col.max_value is not None and number > col.max_value:
            raise cells.CellError("number.too_large", value=number, max=f"{col.max_value:g}")
    return number


_NUMBERS = frozenset({bool, int, float})
_EARLIEST, _AFTER_LATEST = datetime(cells.MIN_YEAR, 1, 1), datetime(cells.MAX_YEAR + 1, 1, 1)


@dataclass
class _Column:
    """One column of a block: the raw cells (as keys) and what each distinct key reads as —
    a value, None for a blank cell (nothing left once cleaned), or the CellError it raised."""

    keys: list[object]
    parsed: dict[object, Any]
    errors: bool  # some key raised
    blanks: bool  # some key is blank

    @property
    def values(self) -> Iterable[Any]:
        if not self.errors:
            return map(self.parsed.__getitem__, self.keys)
        clean = {k: None if isinstance(p, cells.CellError) else p for k, p in self.parsed.items()}
        return map(clean.__getitem__, self.keys)

    @property
    def filled(self) -> Iterable[bool]:
        if not self.blanks:
            return repeat(True, len(self.keys))
        return map(is_not, map(self.parsed.__getitem__, self.keys), repeat(None))

    def problems(self, required: bool) -> Iterator[tuple[int, str, object, dict[str, Any]]]:
        """(index, code, raw cell, message params) of each unreadable or required-but-blank cell."""
        if not (self.errors or (required and self.blanks)):
            return
        bad = {k for k, p in self.parsed.items() if isinstance(p, cells.CellError) or (required and p is None)}
        for i, k in enumerate(self.keys):
            if k in bad:
                error = self.parsed[k]
                if error is None:
                    yield i, "required", None, {}
                else:
                    yield i, error.code, _raw(k), error.params


class _CleanColumn:
    """A column of a block whose every filled cell already is its value (the usual column):
    no distinct values to look up, the cells are the values (an empty string read as blank)."""

    def __init__(self, cells: list[object], blanks: int, empty_strings: int) -> None:
        self.cells, self.blanks, self.empty_strings = cells, blanks, empty_strings

    @property
    def values(self) -> list[Any]:
        if not self.empty_strings:
            return self.cells
        return [None if v == "" else v for v in self.cells]

    @property
    def filled(self) -> Iterable[bool]:
        if not self.blanks:
            return repeat(True, len(self.cells))
        return map(is_not, self.values, repeat(None))

    def problems(self, required: bool) -> Iterator[tuple[int, str, object, dict[str, Any]]]:
        if required and self.blanks:
            for i, v in enumerate(self.values):
                if v is None:
                    yield i, "required", None, {}


def _raw(key: object) -> object:
    return key[1] if isinstance(key, _Typed) else key


class _Typed(tuple):
    """(type, value): keeps 1, 1.0 and True apart in a column that mixes them."""


def _column(raw: Sequence[object], col: Column, date1904: bool) -> _Column | _CleanColumn:
    keys: list[object] = list(raw)
    max_len = getattr(col, "max_len", None)
    all_as_is = _ALL_AS_IS.get(col.type)
    if all_as_is is not None:  # the usual column: blank cells aside, every value already clean?
        present = list(filter(None, keys))  # drops None and "" (and any other false value: counted below)
        nones, empty_strings = keys.count(None), keys.count("")
        if len(present) + nones + empty_strings == len(keys) and (not present or all_as_is(present, max_len)):
            # Equal values as one object: names, dates, texts repeat down a column, and a 50,000-row
            # register keeps them all (50 MiB more, one object per cell).
            keys = list(map(dict(zip(keys, keys, strict=True)).__getitem__, keys))
            return _CleanColumn(keys, nones + empty_strings, empty_strings)
    parsed: dict[object, Any] = dict.fromkeys(keys)
    # Equal as dict keys, but they may read differently: the cells' own types, since the distinct keys keep only
    # the first of TRUE and 1 (or FALSE and 0.0), whose type would then stand for both (a number equals no other
    # kind of cell: a column whose distinct keys hold none holds none).
    if set(map(type, parsed)) & _NUMBERS and len(set(map(type, keys)) & _NUMBERS) > 1:
        keys = [_Typed((type(v), v)) for v in keys]
        parsed = dict.fromkeys(keys)
    as_is = _AS_IS.get(col.type)
    errors = blanks = False
    for k in parsed:
        if as_is is not None and as_is(k, max_len):
            parsed[k] = k
            continue
        value = _raw(k)
        if value is None or value == "":
            blanks = True
            continue
        try:
            parsed[k] = p = parse_cell(value, col, date1904=date1904)
            blanks = blanks or p is None
        except cells.CellError as e:
            parsed[k] = e
            errors = True
    return _Column(keys, parsed, errors, blanks)


def _datetime_as_is(k: object, _: int | None) -> bool:
    return type(k) is datetime and _EARLIEST <= k < _AFTER_LATEST


def _text_as_is(k: object, max_len: int | None) -> TypeGuard[str]:
    """Already what ``cells.parse_text`` returns: no invisible or control characters,
    no openpyxl escapes, no whitespace at the ends, not too long."""
    return (type(k) is str and k.isprintable() and k.strip() == k and k != "" and "_x000D_" not in k
            and (max_len is None or len(k) <= max_len))


def _code_as_is(k: object, max_len: int | None) -> bool:
    return _text_as_is(k, max_len) and k.isascii() and k == k.upper()  # NFKC leaves ASCII as is


def _phone_as_is(k: object, _: int | None) -> bool:
    return type(k) is str and phones.MOBILE.fullmatch(k) is not None  # a mobile number's canonical form


#: Cells that already are their parsed value are taken as they are (the per-cell checks are
#: the parse's own, done in C); everything else goes through ``parse_cell``.
_AS_IS: dict[ColType, Callable[[object, int | None], bool]] = {
    ColType.DATETIME: _datetime_as_is, ColType.TEXT: _text_as_is, ColType.LONGTEXT: _text_as_is,
    ColType.CODE: _code_as_is, ColType.PHONE: _phone_as_is,
}


# The same checks over all of a column's filled cells at once, for the usual column where they
# all pass: each is ``all(_AS_IS[type](k, max_len) for k in keys)`` (``tests/test_reader.py``
# holds them to that), with the per-value work done by built-ins over the whole list.
def _all_datetimes_as_is(keys: list[object], _: int | None) -> bool:
    if set(map(type, keys)) != {datetime}:
        return False
    times: list[datetime] = keys  # type: ignore[assignment]
    return min(times) >= _EARLIEST and max(times) < _AFTER_LATEST


def _all_texts_as_is(keys: list[object], max_len: int | None) -> bool:
    if set(map(type, keys)) != {str}:
        return False
    texts: list[str] = keys  # type: ignore[assignment]
    # Printable text has no whitespace but the plain space, so "stripped" means no space at
    # either end of any value: none after a separator or before one in the joined text.
    joined = "\0" + "\0".join(texts) + "\0"
    return ("".join(texts).isprintable() and "\0 " not in joined and " \0" not in joined
            and "_x000D_" not in joined and (max_len is None or max(map(len, texts)) <= max_len))


def _all_codes_as_is(keys: list[object], max_len: int | None) -> bool:
    if not _all_texts_as_is(keys, max_len):
        return False
    joined = "".join(keys)  # type: ignore[arg-type]
    return joined.isascii() and joined == joined.upper()


_MOBILES = re.compile(f"{phones.MOBILE.pattern}(?:\0{phones.MOBILE.pattern})*", re.ASCII)


def _all_phones_as_is(keys: list[object], _: int | None) -> bool:
    return set(map(type, keys)) == {str} and _MOBILES.fullmatch("\0".join(keys)) is not None  # type: ignore[arg-type]


_ALL_AS_IS: dict[ColType, Callable[[list[object], int | None], bool]] = {
    ColType.DATETIME: _all_datetimes_as_is, ColType.TEXT: _all_texts_as_is, ColType.LONGTEXT: _all_texts_as_is,
    ColType.CODE: _all_codes_as_is, ColType.PHONE: _all_phones_as_is,
}

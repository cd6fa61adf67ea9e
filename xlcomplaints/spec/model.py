"""The shape of a sheet spec: columns with labels, types, dropdowns and formats.

A spec is plain frozen data. Templates, the reader, validation and the docs are all
derived from it, so a column is described here once and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from enum import StrEnum

from xlcomplaints.i18n import pick
from xlcomplaints.spec.vocab import Vocabulary


class ColType(StrEnum):
    """How a cell is parsed and formatted."""

    TEXT = "text"
    CODE = "code"  # an identifier matched across sheets: full-width forms folded (NFKC)
    LONGTEXT = "longtext"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    INT = "int"
    NUMBER = "number"
    PERCENT = "percent"
    CHOICE = "choice"
    BOOL = "bool"
    PHONE = "phone"


class Need(StrEnum):
    """What the engine cannot do without a column: ``refresh`` and ``assign-ids`` refuse,
    writing nothing, while a column they need cannot be found."""

    DEADLINES = "deadlines"  # refresh: due times and statuses count from it
    NUMBERING = "numbering"  # assign-ids: numbers are written into it or made from it


#: Excel number formats per type; a column may override.
DEFAULT_FORMATS: dict[ColType, str] = {
    ColType.DATETIME: "yyyy-mm-dd hh:mm",
    ColType.DATE: "yyyy-mm-dd",
    ColType.TIME: "hh:mm",
    ColType.INT: "0",
    ColType.NUMBER: "0.0",
    ColType.PERCENT: "0.0%",
    ColType.TEXT: "@",
    ColType.CODE: "@",
    ColType.PHONE: "@",
}


#: Lines a header row shows (its height is two lines of the 10-point header font).
HEADER_LINES = 2
#: Where a header may wrap: at a space, or between any two CJK characters (Chinese has no spaces).
_WORDS = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def words(text: str) -> list[str]:
    """The pieces a header may not be cut within: space-separated words; each CJK character alone."""
    return _WORDS.findall(text)


def text_width(text: str, bold: bool = True) -> float:
    """Width units (Excel's column widths: digits of the default font) a (bold header) text takes:
    a Chinese or full-width character about two (1.9), a capital about 1.2, anything else about one;
    bold Latin a tenth wider, regular a tenth narrower."""
    wide = latin = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            wide += 1.9
        elif ch.isupper() or ch in "mwMW@%":
            latin += 1.25
        else:
            latin += 1.0
    return wide + latin * (1.1 if bold else 0.9)


#: The widest a column grows for its choices: a longer label ("Transferred (regulator/head office)")
#: is cut in its cell rather than make every column of its kind that wide.
CHOICE_WIDTH_MAX = 24
#: A cell's margins, in width units.
_PADDING = 1.0


def wrapped_lines(text: str, width: float, bold: bool = True) -> int:
    """Lines a wrapped (bold header) text needs in a column this wide, breaking only between words."""
    room = width - _PADDING
    lines, used = 1, 0.0
    pos = 0
    for m in _WORDS.finditer(text):
        gap = text[pos:m.start()]
        pos = m.end()
        word = text_width(m.group(), bold)
        space = text_width(gap, bold) if used and gap else 0.0
        if used and used + space + word > room:
            lines, used = lines + 1, word
        else:
            used += space + word
    return lines


def fitting_width(text: str, minimum: float, lines: int = HEADER_LINES) -> float:
    """The narrowest width, at least ``minimum``, that shows ``text`` in ``lines`` lines without
    cutting a word: at least its longest word, then half a unit wider until it fits."""
    longest = max((text_width(w) for w in words(text)), default=0.0)
    width = max(minimum, math.ceil((longest + _PADDING) * 2) / 2)
    while wrapped_lines(text, width) > lines:
        width += 0.5
    return width


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    ``key`` is stable across versions and languages: models, code and the English
    header fallback use it. ``computed`` columns are written by the toolkit and locked
    in the template; every other column belongs to the clerk. ``synonyms`` are the other
    headers offices give the column (受理时间: 投诉时间, 来电时间…): the reader finds the
    column under any of them. ``needed_for`` says which flows refuse without the column.
    Neither shapes the sheet, so neither is in the spec's fingerprint.
    """

    key: str
    zh: str
    en: str
    type: ColType = ColType.TEXT
    required: bool = False
    vocab: Vocabulary | None = None
    computed: bool = False
    width: float = 12
    number_format: str | None = None
    help_zh: str = ""
    help_en: str = ""
    max_len: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    synonyms: tuple[str, ...] = ()
    needed_for: tuple[Need, ...] = ()

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    def width_in(self, lang: str, lines: int = HEADER_LINES) -> float:
        """The column's width in this language: the spec's width, widened until the header fits
        its wrapped lines without cutting a word ("Complexit/y" and "(hou" are what this prevents),
        and until a choice of its list reads whole on one line (up to ``CHOICE_WIDTH_MAX``)."""
        width = fitting_width(self.label(lang), self.width, lines)
        if self.vocab is not None:
            longest = max((text_width(label, bold=False) for label in self.vocab.labels(lang)), default=0.0)
            width = max(width, min(CHOICE_WIDTH_MAX, math.ceil((longest + _PADDING) * 2) / 2))
        return width

    def help(self, lang: str) -> str:
        return pick(lang, self.help_zh, self.help_en)

    @property
    def format(self) -> str | None:
        return self.number_format or DEFAULT_FORMATS.get(self.type)


#: Column fields that only say how a sheet is read, not how it looks: outside the fingerprint.
_NOT_SHAPING = frozenset({"synonyms", "needed_for"})


@dataclass(frozen=True)
class SheetSpec:
    """A sheet kind: its title in each language, its columns and its version.

    ``owned`` sheets are rebuilt whole by the toolkit below the header row; other
    sheets are the clerk's, where only ``computed`` columns are ever written.
    """

    kind: str
    version: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    owned: bool = False
    description_zh: str = ""
    description_en: str = ""
    freeze_cols: int = 0

    def title(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.computed)

    @property
    def computed_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.computed)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(f"{self.kind} has no column {key!r}")

    def index(self, key: str) -> int:
        """0-based position of a column in the template."""
        for i, c in enumerate(self.columns):
            if c.key == key:
                return i
        raise KeyError(f"{self.kind} has no column {key!r}")

    def fingerprint(self) -> str:
        """A short hash of everything that shapes the sheet, to detect spec drift."""
        data = {
            "kind": self.kind,
            "version": self.version,
            "zh": self.zh,
            "en": self.en,
            "owned": self.owned,
            "columns": [
                {**{k: v for k, v in asdict(c).items() if k not in _NOT_SHAPING},
                 "vocab": c.vocab.fingerprint_data() if c.vocab else None}
                for c in self.columns
            ],
        }
        blob = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Field:
    """One key/value setting (Settings sheet): label in column A, value in column B."""

    key: str
    zh: str
    en: str
    type: ColType
    default: object
    source_zh: str = ""
    source_en: str = ""
    vocab: Vocabulary | None = None
    min_value: float | None = None
    max_value: float | None = None

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    def source(self, lang: str) -> str:
        return pick(lang, self.source_zh, self.source_en)

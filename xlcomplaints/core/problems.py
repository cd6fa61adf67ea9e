"""Problems found in a workbook, located to the cell, worded in the user's language.

A problem carries a message *code* and parameters, not text: the same problem is
shown in Chinese or English, and tests assert on codes rather than wording.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from xlcomplaints.i18n import register_messages, render

__all__ = ["Level", "Problem", "a1", "column_letter", "in_sheet_order", "register_messages", "render"]


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: Level
    code: str
    sheet: str | None = None
    cell: str | None = None
    column: str | None = None
    value: str | None = None
    params: dict[str, Any] = {}
    file: str | None = None

    def message(self, lang: str = "zh") -> str:
        return render(self.code, lang, self.params)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "level": self.level.value,
            "code": self.code,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "column": self.column,
            "value": self.value,
            "message": self.message(lang),
        }


def column_letter(index: int) -> str:
    """1-based column number to Excel letters (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


def _cell_position(cell: str | None) -> tuple[int, int]:
    """``"B10"`` → (10, 2): row first, so that A2 comes before A10 and both before B11."""
    if not cell:
        return (0, 0)
    letters = cell.rstrip("0123456789")
    digits = cell[len(letters):]
    col = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            return (0, 0)
        col = col * 26 + ord(ch) - 64
    return (int(digits) if digits else 0, col)


def in_sheet_order(problems: list[Problem]) -> list[Problem]:
    """Problems as a clerk walks the workbook: by file and sheet (in the order they first appear),
    then by row and column (A2 before A10); problems without a cell come first in their sheet."""
    first: dict[tuple[str | None, str | None], int] = {}
    for p in problems:
        first.setdefault((p.file, p.sheet), len(first))
    return sorted(problems, key=lambda p: (first[(p.file, p.sheet)], _cell_position(p.cell)))

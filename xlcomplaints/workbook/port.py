"""The workbook port: the few operations every flow needs from a workbook.

Two adapters implement it: ``FileWorkbook`` (an .xlsx/.xlsm on disk, lossless) and
``xlcomplaints.excel.XlwingsWorkbook`` (the workbook open in Excel). Flows are
written once against this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

CellValue = str | int | float | bool | datetime | date | None
#: The last row of a sheet (Excel's): an area reaching it covers a whole column below its start.
MAX_ROW = 1048576


@dataclass(frozen=True)
class NamedValue:
    """A defined name: its text, and the sheet it is scoped to (None = workbook)."""

    name: str
    value: str
    local_sheet: str | None = None


Area = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based)


@dataclass(frozen=True)
class AreaBlock:
    """Something a sheet applies over some areas, as a flow sees it: the areas, what it means (comparable
    whichever program wrote it; ``areas`` aside), and the adapter's own form of it (``element``; a copy with
    other ``areas`` is written there)."""

    areas: tuple[Area, ...]
    meaning: tuple[object, ...]
    element: str = ""

    @property
    def columns(self) -> set[int]:
        return {c for _, c1, _, c2 in self.areas for c in range(c1, c2 + 1)}


@dataclass(frozen=True)
class Validation(AreaBlock):
    """A data validation (a dropdown, an input message): the areas it covers, and what it says."""


@dataclass(frozen=True)
class ConditionalFormat(AreaBlock):
    """A block of conditional formats (rules over some areas): its areas, and its rules with their formats
    (priorities aside)."""


@dataclass(frozen=True)
class ChartSeries:
    """One series of a chart: its name from a header cell, its values from a column of the chart's rows.
    What the cells hold now rides along (a chart keeps a copy to show before it is recalculated)."""

    name_cell: tuple[int, int]  # (row, col), 1-based
    name: str
    column: int
    values: tuple[float, ...]
    colour: str  # RRGGBB


@dataclass(frozen=True)
class BarChart:
    """A small clustered bar chart over a table on the same sheet: a bar per row (its category in
    ``category_column`` from ``first_row`` down, one row a category) for each series, the first row
    at the top, each bar labelled with its value. Its top-left corner sits at the cell ``at`` (row,
    col, 1-based); ``size`` is (width, height) in pixels."""

    title: str
    category_column: int
    first_row: int
    categories: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    at: tuple[int, int]
    size: tuple[int, int]


class WorkbookPort(Protocol):
    @property
    def label(self) -> str:
        """What to call the workbook in messages (its file name)."""
        ...

    @property
    def date1904(self) -> bool: ...

    def sheet_names(self) -> list[str]: ...

    def names(self) -> list[NamedValue]: ...

    def values(self, sheet: str) -> list[list[object]]:
        """The sheet's cells from A1 to its last used cell, as Python values."""
        ...

    def rows(self, sheet: str) -> Iterator[list[object]]:
        """The same cells row by row from row 1, for sheets too large to hold as a grid."""
        ...

    def error_cells(self, sheet: str) -> dict[str, str]:
        """Cells showing an error value (``#N/A``, ``#VALUE!``: a formula that failed), by A1 reference.

        ``values`` and ``rows`` give such cells as blank (what both calamine and xlwings do);
        this second look tells them apart, asked only when a blank needs explaining.
        """
        ...

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        """Write values at 1-based (row, col); None clears a value, keeping the cell's format."""
        ...

    def write_columns(self, sheet: str, columns: Sequence[int], rows: Mapping[int, Sequence[CellValue]]) -> None:
        """Write the given 1-based columns of the given rows, each row's values aligned with
        ``columns`` (None clears); cells in other columns stay as they are.

        For writes across a whole sheet (a refresh's computed columns): the file adapter
        keeps the rows (tuples of the same values) and renders the cells while saving.
        """
        ...

    def replace_rows(self, sheet: str, first_row: int, rows: Sequence[Sequence[CellValue]]) -> None:
        """Replace everything from ``first_row`` down (owned sheets only)."""
        ...

    def save(self) -> bool:
        """Make the writes permanent; False when there was nothing to change."""
        ...


@runtime_checkable
class RecreatesSheets(Protocol):
    """A workbook that can add one of our generated sheets again, as the template has it."""

    def recreate_sheet(self, kind: str, lang: str) -> str:
        """Add the ``kind`` sheet (Overdue, Summary) as the template in ``lang`` has it; its title."""
        ...


@runtime_checkable
class DrawsCharts(Protocol):
    """A workbook that can draw our own native chart on a sheet (the Summary's workload chart)."""

    def set_chart(self, sheet: str, key: str, chart: BarChart | None) -> None:
        """Our chart named ``key`` on the sheet becomes ``chart``: added, replaced, or (None) removed.
        Every other drawing, chart or picture on the sheet and elsewhere stays as it is."""
        ...


@runtime_checkable
class Upgrades(WorkbookPort, RecreatesSheets, Protocol):
    """A workbook ``upgrade`` can bring to the current template: sheets added from the template
    (``recreate_sheet``), validations and hidden names set, besides the port's cell writes."""

    def template(self, lang: str) -> Upgrades:
        """The current branch template in ``lang``, to read what is copied from it."""
        ...

    def copy_sheet(self, source: Upgrades, kind: str) -> str:
        """Add ``source``'s sheet of this kind (found by its stamp), last, as ``source`` has it; its title."""
        ...

    def validations(self, sheet: str) -> list[Validation]:
        """The sheet's data validations (dropdowns, input messages)."""
        ...

    def set_validations(self, sheet: str, keep: Callable[[Validation], bool], added: Sequence[Validation]) -> bool:
        """Keep the validations ``keep`` accepts, add ``added``; False if nothing changes."""
        ...

    def conditional_formats(self, sheet: str) -> list[ConditionalFormat]:
        """The sheet's conditional formats."""
        ...

    def set_conditional_formats(self, sheet: str, keep: Callable[[ConditionalFormat], bool], source: Upgrades,
                                source_sheet: str) -> bool:
        """Keep the conditional formats ``keep`` accepts; add all of ``source_sheet``'s in ``source``
        (their formats copied along), after the kept ones in priority. False if nothing changes."""
        ...

    def copy_styles(self, sheet: str, source: Upgrades, source_sheet: str,
                    cells: Mapping[tuple[int, int], tuple[int, int]], *, create: bool = False) -> bool:
        """Give cells written here ((row, col) in ``source_sheet`` → (row, col) here) the formats the
        source's cells have (``create``: a cell not here is made blank with its format); False when
        none changed."""
        ...

    def protection(self, sheet: str) -> dict[str, str] | None:
        """How the sheet is protected (its options by name); None when it is not."""
        ...

    def set_protection(self, sheet: str, attrs: Mapping[str, str]) -> bool:
        """Protect the sheet with these options (a protected sheet only); False if nothing changes."""
        ...

    def set_name(self, name: str, value: str, local_sheet: str | None = None) -> None:
        """Set a hidden defined name (our stamps), at workbook scope or on ``local_sheet``."""
        ...

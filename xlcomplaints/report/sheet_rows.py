"""A table's body put into an XlsxWriter sheet and its cells' XML written: the report writer's one speed trick
(issue 22), in parts, each held byte for byte to what XlsxWriter's own calls write (``tests/test_sheet_rows.py``).

``put_rows`` stores each cell as ``Worksheet.write_string``/``write_number``/``write_blank``/``write``
would, without their per-cell dispatch (``write``'s type tests, the A1-notation decorator, a bounds and
dimension check per cell): the same cell records in the same order (so the same shared-string indices), the
sheet's used range widened once. ``write_plain`` is the plain loop it replaces; ``tests/test_sheet_rows.py``
checks the two give the same sheet XML byte for byte, values of every kind included. ``quick_rows`` makes
a sheet write its rows' XML a row at a time, a formatted string, number, date or blank cell with one format
string, instead of XlsxWriter's test of every column of every row, attribute list and escaping checks per cell
(``Worksheet._write_rows``, ``_write_cell``; the same test compares the two). ``quick_formulas`` prepares the
report's formulas without XlsxWriter's substitutions that cannot match them, and ``QuickBook`` writes the shared
strings that need no escaping one f-string each. The report is written with the cyclic garbage collector held
off (``collector.collector_paused``, the one home of that pause: ``report/workbook.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellDatetimeTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
)


def write_plain(ws: Worksheet, rows: Sequence[Sequence[Any]], formats: Sequence[Format], first: int = 1) -> None:
    """``rows`` from row ``first`` on, column ``i`` in ``formats[i]``, through XlsxWriter's public calls."""
    for r, values in enumerate(rows, start=first):
        for i, value in enumerate(values):
            if value is None:
                ws.write_blank(r, i, None, formats[i])
            elif isinstance(value, str):
                ws.write_string(r, i, value, formats[i])
            else:
                ws.write(r, i, value, formats[i])


def put_rows(ws: Worksheet, rows: Sequence[Sequence[Any]], formats: Sequence[Format], first: int = 1) -> None:
    """``write_plain``'s cells, stored straight into the sheet's table.

    Buys (a report of 396,565 cells, 376,000 of them in its Overdue detail, written in one process, best of 3,
    twice): the whole writing's CPU 2.12–2.26 s → 1.81–1.96 s (docs/benchmarks.md, "The report writer"). What is not a plain string (under XlsxWriter's length check), a finite
    ``int``/``float``, a ``datetime`` or ``None`` goes through ``write_plain``'s calls, as does all of it in
    ``constant_memory`` mode or past a sheet's last row. A string's shared index is found as
    ``SharedStringTable._get_shared_string_index`` finds it, without a call a string, and a naive datetime's serial
    is worked out once a list (the 1 M report's 53,700 dates are 2,871 times). Together they buy (the 1 M report's
    write, a process each): 13.90 → 12.38 G instructions (callgrind), CPU 1.24–1.27 → 1.16–1.25 s
    (docs/benchmarks.md, "The report workbook's rows")."""
    last = first + len(rows) - 1
    if not rows or ws.constant_memory or last >= ws.xls_rowmax:
        write_plain(ws, rows, formats, first)
        return
    table, to_serial, strings = ws.table, ws._convert_date_time, ws.str_table
    index_of = strings.string_table  # a string → its index, in the order first written
    serials: dict[datetime, float] = {}  # a naive datetime → its serial (an aware one's depends on its zone)
    shared = 0
    longest = ws.xls_strmax // 2  # longer strings are measured in UTF-16 units, maybe cut: the plain call does it
    date_format = ws.default_date_format
    top = left = bottom = right = -1  # the rows and columns of the cells stored here
    for r, values in enumerate(rows, start=first):
        had = r in table
        cells = table[r]
        lo = hi = -1
        for i, value in enumerate(values):
            kind = value.__class__
            if kind is str and len(value) <= longest:
                index = index_of.get(value)
                if index is None:
                    index = index_of[value] = strings.unique_count
                    strings.unique_count += 1
                shared += 1
                cells[i] = CellStringTuple(index, formats[i])
            elif value is None:
                if formats[i] is None:  # XlsxWriter writes no unformatted blank
                    continue
                cells[i] = CellBlankTuple(formats[i])
            elif (kind is float or kind is int) and math.isfinite(value):
                cells[i] = CellNumberTuple(value, formats[i])
            elif kind is datetime:
                serial = serials.get(value) if value.tzinfo is None else None
                if serial is None:
                    serial = to_serial(value)
                    if value.tzinfo is None:
                        serials[value] = serial
                cells[i] = CellDatetimeTuple(serial, date_format if formats[i] is None else formats[i])
            else:
                _one(ws, r, i, value, formats[i])
                continue
            if lo < 0:
                lo = i
            hi = i
        if lo >= 0:
            top = r if top < 0 else top
            bottom, left, right = r, lo if left < 0 else min(left, lo), max(right, hi)
        elif not had and not cells:
            del table[r]
    strings.count += shared
    if top >= 0:  # the used range, widened as a check per cell would have (rows and columns apart)
        ws._check_dimensions(top, left)
        ws._check_dimensions(bottom, right)


def _one(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    """One cell through the public calls (a value ``put_rows`` does not store itself)."""
    if isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write(row, col, value, fmt)


def quick_rows(ws: Worksheet) -> Worksheet:
    """``ws``, writing its rows' XML (``Worksheet._write_rows``: the ``<row>`` tags, their spans and the cells)
    a row at a time, one ``write`` a row: a formatted string, number, date or blank cell as one f-string, a cell
    of any other kind or without a format, and a row that has its own height or format, through XlsxWriter's own
    calls (``_write_cell``, ``_write_row``), in the same order. The spans (the first and last column of each 16
    rows) are found from each row's first and last cell, not by a test of every column of every row.

    Buys (the 1 M report, 413,373 cells, alternating with the code before it): the write's CPU 1.58–1.59 s →
    1.31 s, ``Workbook.close``'s 0.88 → 0.60–0.61 s (docs/benchmarks.md, "The report workbook's rows"). A sheet with
    comments, in ``constant_memory`` mode or with a cell outside its used range (never, through the public
    calls) is written by XlsxWriter's ``_write_rows``; ``tests/test_sheet_rows.py`` compares the two."""
    if ws.constant_memory:
        return ws
    plain_rows = ws._write_rows

    def write_rows() -> None:
        if ws.comments:
            plain_rows()
            return
        table, row_info = ws.table, ws.row_info
        top, bottom, left, right = ws.dim_rowmin, ws.dim_rowmax, ws.dim_colmin, ws.dim_colmax
        spans: dict[int, list[int]] = {}
        for r, cells in table.items():
            if not cells or not top <= r <= bottom:
                continue
            lo, hi = min(cells), max(cells)
            if lo < left or hi > right:
                plain_rows()
                return
            span = spans.get(r // 16)
            if span is None:
                spans[r // 16] = [lo, hi]
            else:
                span[0], span[1] = min(span[0], lo), max(span[1], hi)
        span_text = {k: f"{lo + 1}:{hi + 1}" for k, (lo, hi) in spans.items()}
        # a row with no attributes of its own: XlsxWriter's _write_row adds none but r and spans
        bare = ws.default_row_height == ws.original_row_height and ws.excel_version != 2010
        write, plain_row, plain_cell = ws.fh.write, ws._write_row, ws._write_cell
        letters = [xl_col_to_name(c) for c in range(right + 1)]
        xf: dict[Format, str] = {}
        for r in range(top, bottom + 1):
            cells = table.get(r)
            info = row_info.get(r)
            if not cells:
                if info is not None:
                    ws._write_empty_row(r, span_text.get(r // 16), info)
                continue
            at = span_text.get(r // 16)
            n = str(r + 1)
            if info is None and bare:
                parts = [f'<row r="{n}" spans="{at}">' if at else f'<row r="{n}">']
            else:
                plain_row(r, at, info)
                parts = []
            for c in sorted(cells):
                cell = cells[c]
                kind, fmt = cell.__class__, cell.format
                s = xf.get(fmt) if fmt is not None else None
                if s is None and fmt is not None:
                    s = xf[fmt] = str(fmt._get_xf_index())
                if s is None:
                    write("".join(parts))
                    parts = []
                    plain_cell(r, c, cell)
                elif kind is CellStringTuple:
                    parts.append(f'<c r="{letters[c]}{n}" s="{s}" t="s"><v>{cell.string}</v></c>')
                elif kind is CellNumberTuple or kind is CellDatetimeTuple:
                    parts.append(f'<c r="{letters[c]}{n}" s="{s}"><v>{cell.number:.16G}</v></c>')
                elif kind is CellBlankTuple:
                    parts.append(f'<c r="{letters[c]}{n}" s="{s}"/>')
                else:
                    write("".join(parts))
                    parts = []
                    plain_cell(r, c, cell)
            parts.append("</row>")
            write("".join(parts))

    ws._write_rows = write_rows
    return ws


#: The calls of the formulas the report writes; a formula calling nothing else needs none of the ``_xlfn.`` prefixes
#: ``Worksheet._prepare_formula`` puts before newer functions' names.
PLAIN_CALLS = frozenset({"IF(", "AND(", "ISNUMBER(", "SUM("})
_CALL = re.compile(r"[\w.]+\(")  # a name, maybe dotted, and its bracket: every prefix XlsxWriter adds ends one


def quick_formulas(ws: Worksheet) -> Worksheet:
    """``ws``, preparing a formula that calls only ``PLAIN_CALLS`` by cutting its ``=``, as
    ``Worksheet._prepare_formula`` does after its ~30 regular-expression substitutions, none of which can match it
    (each needs one of the newer functions' names before a bracket; with ``use_future_functions``, ~150 more).
    Any other formula goes through XlsxWriter's own.

    Buys (the 1 M report's 4,132 formulas, most on its By-branch sheet): its breakdown sheets' CPU 0.20 → 0.05 s
    (docs/benchmarks.md, "The report workbook's rows"); ``tests/test_sheet_rows.py`` holds the two equal."""
    plain = ws._prepare_formula

    def prepare(formula: str, expand_future_functions: bool = False) -> str:
        if (formula.startswith("=") and not formula.endswith("}") and not ws.use_future_functions
                and not expand_future_functions and PLAIN_CALLS.issuperset(_CALL.findall(formula))):
            return formula[1:]
        return plain(formula, expand_future_functions)

    ws._prepare_formula = prepare
    return ws


#: A shared string XlsxWriter writes as it is: no control character (and no ``_xHHHH_`` that would read as
#: one), nothing to escape, no rich string; its first and last characters are looked at apart.
_AS_IS = re.compile(r'[\x00-\x1f"&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_')


class _QuickStrings(SharedStrings):
    """``xl/sharedStrings.xml`` with a string that needs nothing done written as ``<si><t>…</t></si>`` in one
    f-string, many to a ``write``; the others through ``SharedStrings._write_si``, in the same order."""

    def _write_sst_strings(self) -> None:
        plain, write, parts = self._write_si, self.fh.write, []
        for string in self.string_table.string_array:
            if _AS_IS.search(string) is None and not string[:1].isspace() and not string[-1:].isspace():
                parts.append(f"<si><t>{string}</t></si>")
                if len(parts) >= 4096:
                    write("".join(parts))
                    parts = []
            else:
                write("".join(parts))
                parts = []
                plain(string)
        write("".join(parts))


class _QuickPackager(Packager):
    def _write_shared_strings_file(self) -> None:  # Packager's own, with _QuickStrings
        sst = _QuickStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class QuickBook(Workbook):
    """An XlsxWriter ``Workbook`` whose shared strings are written by ``_QuickStrings``: XlsxWriter's
    ``_get_packager`` is there to be overridden.

    Buys (the 1 M report's 29,427 shared strings): their file's CPU 0.08 → 0.016 s (docs/benchmarks.md, "The
    report workbook's rows"); ``tests/test_sheet_rows.py`` compares the files byte for byte with a plain
    ``Workbook``'s."""

    def _get_packager(self) -> Packager:
        return _QuickPackager()

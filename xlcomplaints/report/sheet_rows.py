"""A table's body put into an XlsxWriter sheet and its cells' XML written: the report writer's one speed trick
(issue 22), in two halves.

``put_rows`` stores each cell as ``Worksheet.write_string``/``write_number``/``write_blank``/``write``
would, without their per-cell dispatch (``write``'s type tests, the A1-notation decorator, a bounds and
dimension check per cell): the same cell records in the same order (so the same shared-string indices), the
sheet's used range widened once. ``write_plain`` is the plain loop it replaces; ``tests/test_sheet_rows.py``
checks the two give the same sheet XML byte for byte, values of every kind included. ``quick_cells`` makes
a sheet write its formatted string, number, date and blank cells' XML with one format string each, instead
of XlsxWriter's attribute list and escaping checks per cell (``Worksheet._write_cell``; the same test compares
the two). The report is written with the cyclic garbage collector held off (``collector.collector_paused``,
the one home of that pause: ``report/workbook.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
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
    ``constant_memory`` mode or past a sheet's last row."""
    last = first + len(rows) - 1
    if not rows or ws.constant_memory or last >= ws.xls_rowmax:
        write_plain(ws, rows, formats, first)
        return
    table, shared, to_serial = ws.table, ws.str_table._get_shared_string_index, ws._convert_date_time
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
                cells[i] = CellStringTuple(shared(value), formats[i])
            elif value is None:
                if formats[i] is None:  # XlsxWriter writes no unformatted blank
                    continue
                cells[i] = CellBlankTuple(formats[i])
            elif (kind is float or kind is int) and math.isfinite(value):
                cells[i] = CellNumberTuple(value, formats[i])
            elif kind is datetime:
                cells[i] = CellDatetimeTuple(to_serial(value), date_format if formats[i] is None else formats[i])
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
    if top >= 0:  # the used range, widened as a check per cell would have (rows and columns apart)
        ws._check_dimensions(top, left)
        ws._check_dimensions(bottom, right)


def _one(ws: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    """One cell through the public calls (a value ``put_rows`` does not store itself)."""
    if isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write(row, col, value, fmt)


def quick_cells(ws: Worksheet) -> Worksheet:
    """``ws``, writing its formatted string, number, date and blank cells' XML as ``Worksheet._write_cell`` does
    (the rest through it), with one format string a cell.

    Buys (the same report as ``put_rows``'s figure): ``Workbook.close``'s CPU 1.03–1.10 s → 0.58–0.61 s, the
    whole writing's 1.81–1.96 s → 1.43–1.56 s (docs/benchmarks.md, "The report writer"). A cell's reference (letters and digits) and its format's index (a number) need no
    escaping; a shared string is written as its index; ``constant_memory`` sheets are left alone."""
    if ws.constant_memory:
        return ws
    plain = ws._write_cell

    def write_cell(row: int, col: int, cell: Any) -> None:
        kind, fmt = cell.__class__, cell.format
        if fmt is None:
            plain(row, col, cell)
        elif kind is CellStringTuple:
            ws.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}" t="s">'
                        f"<v>{cell.string}</v></c>")
        elif kind is CellNumberTuple or kind is CellDatetimeTuple:
            ws.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}">'
                        f"<v>{cell.number:.16G}</v></c>")
        elif kind is CellBlankTuple:
            ws.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"/>')
        else:
            plain(row, col, cell)

    ws._write_cell = write_cell
    return ws

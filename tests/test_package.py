"""XlsxPackage on real Excel files: the cells we write change, every other byte stays.

Each real-excel fixture is copied, patched (new and overwritten cells, a formula-looking
string, a date, CJK text, replace_rows on a second sheet), saved to disk, and checked
entry by entry against the original zip, element by element against the original sheet
XML, and read back with openpyxl, python-calamine and (when installed) LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import posixpath
import shutil
import struct
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import HAS_SOFFICE, REAL_EXCEL, soffice_convert, soffice_convert_all
from xlcomplaints.workbook import sheet_xml, xlsx_values, xlsx_zip
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.package import XlsxPackage, escape_text, excel_serial, unescape_text
from xlcomplaints.workbook.safety import WorkbookChangedError, WorkbookLockedError

FILES = sorted(REAL_EXCEL.glob("*.xls[xm]"))
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CALC_PARTS = {"xl/calcChain.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


# --------------------------------------------------------------------------- helpers
def raw_entries(data: bytes) -> list[tuple[str, bytes, tuple[object, ...]]]:
    """(name, local header + compressed bytes, central-directory fields) per entry, in order."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
            end = start + 30 + name_len + extra_len + info.compress_size
            central = (info.date_time, info.compress_type, info.CRC, info.flag_bits, info.extra,
                       info.external_attr, info.internal_attr, info.create_system, info.comment)  # fmt: skip
            out.append((info.filename, data[start:end], central))
    return out


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


def c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n")


def cells_of(root: etree._Element) -> dict[str, etree._Element]:
    return {c.get("r"): c for c in root.iter(f"{MAIN}c")}


def calamine_grid(data: bytes, sheet: str) -> list[list[object]]:
    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def grid_value(grid: list[list[object]], row: int, col: int) -> object:
    try:
        return grid[row - 1][col - 1]
    except IndexError:
        return ""


def load_openpyxl(data: bytes) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl complains about x14 extensions it drops
        return openpyxl.load_workbook(io.BytesIO(data))


def copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    dst.chmod(0o644)
    return dst


def same_date(got: object, want: dt.date, date1904: bool = False) -> bool:
    """calamine gives a date for date-formatted cells and the serial number otherwise."""
    if isinstance(got, dt.datetime):
        return got == (
            want if isinstance(want, dt.datetime) else dt.datetime.combine(want, dt.time())
        )
    if isinstance(got, dt.date):
        return got == want
    return got == pytest.approx(excel_serial(want, date1904))


def plan_writes(sheet_xml: bytes) -> tuple[dict[tuple[int, int], object], bool]:
    """New and overwritten cells for a sheet; True if one of them held a formula."""
    root = etree.fromstring(sheet_xml)
    rows = [int(r.get("r")) for r in root.iter(f"{MAIN}row")]
    last = max(rows, default=0)
    values = [c for c in root.iter(f"{MAIN}c") if c.find(f"{MAIN}v") is not None]
    plain = [c for c in values if c.find(f"{MAIN}f") is None]
    formulas = [c for c in values if c.find(f"{MAIN}f") is not None]
    writes: dict[tuple[int, int], object] = {
        (last + 2, 1): "=SUM(A1:A3)",
        (last + 2, 2): "+86 10 6512 3456",
        (last + 2, 3): "-",
        (last + 2, 4): "@投诉",
        (last + 2, 5): dt.date(2024, 10, 8),
        (last + 2, 6): dt.datetime(2024, 10, 8, 14, 30),
        (last + 3, 1): "投诉人：张三\n电话回访 ✓",
        (last + 3, 2): 1234.5,
        (last + 3, 3): True,
        (last + 5, 30): 7,
    }
    for cell in plain[:1] + formulas[:1]:
        r, c = xlsx_values.parse_ref(cell.get("r"))
        writes[(r, c)] = "已办结" if cell in plain else 42
    if rows:  # a new cell at the end of an existing row
        first = next(root.iter(f"{MAIN}row"))
        cols = [xlsx_values.parse_ref(c.get("r"))[1] for c in first.iter(f"{MAIN}c")]
        writes[(int(first.get("r")), max(cols, default=0) + 2)] = "新列"
    return writes, bool(formulas)


NEW_ROWS: list[list[object]] = [
    ["编号", 1, dt.date(2024, 1, 2), "=1+1"],
    ["王五", None, 3.25, False],
    ["", "line1\r\nline2", None, "  leading and trailing  "],
]


def table_edge_rows(data: bytes, sheet_part: str) -> set[int]:
    """Header and totals rows of the Excel tables on a sheet, read from its table parts with lxml."""
    folder, base = sheet_part.rsplit("/", 1)
    rows: set[int] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels_name = f"{folder}/_rels/{base}.rels"
        if rels_name not in z.namelist():
            return rows
        for rel in etree.fromstring(z.read(rels_name)):
            if rel.get("Type", "").endswith("/table"):
                table = etree.fromstring(z.read(posixpath.normpath(f"{folder}/{rel.get('Target')}")))
                r1, _, r2, _ = xlsx_values.parse_range(table.get("ref"))
                rows |= set(range(r1, r1 + int(table.get("headerRowCount") or 1)))
                rows |= set(range(r2 - int(table.get("totalsRowCount") or 0) + 1, r2 + 1))
    return rows


def replaces_a_table(pkg: XlsxPackage, data: bytes, sheet: str, first_row: int) -> bool:
    """replace_rows from first_row would cut through a table: the writer must refuse, recording nothing."""
    part_name = pkg.sheet(sheet).part
    if not any(r >= first_row for r in table_edge_rows(data, part_name)):
        return False
    before = pkg.changed_parts()
    with pytest.raises(WorkbookError) as refused:
        pkg.replace_rows(sheet, first_row, NEW_ROWS)
    assert refused.value.code == "file.table_header" and pkg.changed_parts() == before
    return True


def check_value(got: object, want: object) -> None:
    if isinstance(want, dt.date):
        assert same_date(got, want), (got, want)
    elif isinstance(want, bool):
        assert got is want or got == want
    elif isinstance(want, int | float):
        assert got == pytest.approx(want)
    else:
        assert got == want


def save_measuring_peak(pkg: XlsxPackage, path: Path) -> int:
    """Stream the package to ``path``; the peak of Python allocations while it did (bytes)."""
    tracemalloc.start()
    try:
        with open(path, "wb") as fh:
            pkg.write_to(fh)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- real Excel files
@pytest.mark.parametrize("src", FILES, ids=lambda p: p.name)
def test_real_excel_only_written_cells_change(src: Path, tmp_path: Path) -> None:
    path = copy(src, tmp_path)
    original = path.read_bytes()
    pkg = XlsxPackage.open(path)
    worksheets = [s for s in pkg.sheets if s.kind == "worksheet"]
    first = worksheets[0]
    writes, overwrote_formula = plan_writes(part(original, first.part))
    pkg.write_cells(first.name, writes)
    patched = {first.part}
    second = worksheets[1] if len(worksheets) > 1 else None
    removed_formula = False
    if second is not None and replaces_a_table(pkg, original, second.name, 2):
        second = None  # refused, recording nothing: only the first sheet is written
    if second is not None:
        second_xml = etree.fromstring(part(original, second.part))
        removed_formula = any(
            int(c.getparent().get("r")) >= 2
            for c in second_xml.iter(f"{MAIN}c")
            if c.find(f"{MAIN}f") is not None
        )
        pkg.replace_rows(second.name, 2, NEW_ROWS)
        patched.add(second.part)
    names = [n for n, _, _ in raw_entries(original)]
    calc = (overwrote_formula or removed_formula) and "xl/calcChain.xml" in names
    expected = patched | (CALC_PARTS if calc else set())
    assert pkg.changed_parts() == expected
    assert pkg.save() is not None
    saved = path.read_bytes()
    assert (tmp_path / f"{path.stem}.bak{path.suffix}").read_bytes() == original

    # Every entry we did not patch: same name, same position, same raw record.
    before = {n: (raw, central) for n, raw, central in raw_entries(original)}
    after = raw_entries(saved)
    assert [n for n, _, _ in after] == [n for n in names if not (calc and n == "xl/calcChain.xml")]
    for name, raw, central in after:
        if name not in expected:
            assert (raw, central) == before[name], name

    # The patched sheets keep every element they had, byte-for-byte after canonicalisation.
    for ref in [first] + ([second] if second else []):
        old_xml, new_xml = part(original, ref.part), part(saved, ref.part)
        old, new = etree.fromstring(old_xml), etree.fromstring(new_xml)
        head = old_xml[: old_xml.index(b"<", old_xml.index(b"?>"))]
        assert new_xml.startswith(head)  # XML declaration (standalone="yes") and its CRLF
        assert new.nsmap == old.nsmap and dict(new.attrib) == dict(old.attrib)
        assert [ch.tag for ch in new] == [ch.tag for ch in old]
        volatile = {f"{MAIN}sheetData", f"{MAIN}dimension", f"{MAIN}autoFilter"}
        for o, n in zip(old, new, strict=True):
            if o.tag not in volatile:
                assert c14n(n) == c14n(o), o.tag

    # Cells we did not write are untouched (rows keep attributes apart from spans).
    old_root, new_root = (
        etree.fromstring(part(original, first.part)),
        etree.fromstring(part(saved, first.part)),
    )
    written = {xlsx_values.cell_ref(c, r) for r, c in writes}
    new_cells = cells_of(new_root)
    for ref, cell in cells_of(old_root).items():
        if ref not in written:
            assert c14n(new_cells[ref]) == c14n(cell), ref
    new_rows = {r.get("r"): r for r in new_root.iter(f"{MAIN}row")}
    for row in old_root.iter(f"{MAIN}row"):
        keep = {k: v for k, v in row.attrib.items() if k != "spans"}
        assert {k: v for k, v in new_rows[row.get("r")].attrib.items() if k != "spans"} == keep
    assert [int(r.get("r")) for r in new_root.iter(f"{MAIN}row")] == sorted(
        int(k) for k in new_rows
    )

    # Independent readers get the values back; formula-looking strings stay strings.
    grid = calamine_grid(saved, first.name)
    for (r, c), want in writes.items():
        check_value(grid_value(grid, r, c), want)
    ws = load_openpyxl(saved)[first.name]
    for (r, c), want in writes.items():
        if isinstance(want, str):
            assert ws.cell(r, c).value == want.replace("\r\n", "\n")
            assert ws.cell(r, c).data_type == "s"
    if second is not None:
        grid = calamine_grid(saved, second.name)
        for i, row in enumerate(NEW_ROWS, 2):
            for c, want in enumerate(row, 1):
                check_value(grid_value(grid, i, c), "" if want is None else want)
        assert all(v == "" for line in grid[1 + len(NEW_ROWS) :] for v in line)


def test_second_identical_write_changes_nothing(tmp_path: Path) -> None:
    path = copy(REAL_EXCEL / "56644.xlsx", tmp_path)
    writes, _ = plan_writes(part(path.read_bytes(), "xl/worksheets/sheet1.xml"))
    pkg = XlsxPackage.open(path)
    pkg.write_cells("samplelist", writes)
    pkg.replace_rows("lists", 2, NEW_ROWS)
    assert pkg.save() is not None
    saved, mtime = path.read_bytes(), path.stat().st_mtime_ns
    for reopen in (False, True):  # on the same package after save, and on a fresh open
        if reopen:
            pkg = XlsxPackage.open(path)
        pkg.write_cells("samplelist", writes)
        pkg.replace_rows("lists", 2, NEW_ROWS)
        assert pkg.changed_parts() == set()
        assert pkg.to_bytes() == saved
        assert pkg.save() is None
    assert path.read_bytes() == saved and path.stat().st_mtime_ns == mtime


def test_writing_the_value_a_cell_already_has_is_no_change() -> None:
    src = (REAL_EXCEL / "NewStyleConditionalFormattings.xlsx").read_bytes()
    pkg = XlsxPackage.open(src)
    grid = calamine_grid(src, "CF")
    header = {(1, c): grid[0][c - 1] for c in range(1, 5) if grid[0][c - 1] != ""}
    assert header  # shared strings
    pkg.write_cells(
        "CF", header | {(2, 1): 1, (2, 2): None, (40, 3): None}
    )  # A2 holds 1, B2 is empty
    assert pkg.changed_parts() == set()
    assert pkg.to_bytes() == src


def test_shared_formula_survives_losing_its_anchor() -> None:
    """C3 anchors C3:C17 (=$A3): overwriting it hands the formula to C4, translated."""
    pkg = XlsxPackage.open(REAL_EXCEL / "NewStyleConditionalFormattings.xlsx")
    pkg.write_cells("CF", {(3, 3): "manual"})
    cells = cells_of(etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml")))
    assert cells["C3"].find(f"{MAIN}f") is None
    anchor = cells["C4"].find(f"{MAIN}f")
    assert dict(anchor.attrib) == {"t": "shared", "si": "1", "ref": "C4:C17"}
    assert anchor.text == "$A4"
    assert cells["C5"].find(f"{MAIN}f").attrib == {"t": "shared", "si": "1"}


def test_two_dimensional_shared_formula_is_unshared() -> None:
    """D2 anchors D2:U17 (=$A2); no remaining cell can anchor it, so each gets its formula."""
    pkg = XlsxPackage.open(REAL_EXCEL / "NewStyleConditionalFormattings.xlsx")
    pkg.write_cells("CF", {(2, 4): "manual"})
    cells = cells_of(etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml")))
    assert cells["D2"].find(f"{MAIN}f") is None
    for ref, text in [("E2", "$A2"), ("U2", "$A2"), ("D3", "$A3"), ("G9", "$A9")]:
        f = cells[ref].find(f"{MAIN}f")
        assert (dict(f.attrib), f.text) == ({}, text), ref
    assert not [c for c in cells.values() if c.find(f"{MAIN}f[@si='0']") is not None]
    assert cells["C4"].find(f"{MAIN}f").get("si") == "1"  # the other group is untouched


def test_overwriting_a_formula_drops_calc_chain(tmp_path: Path) -> None:
    src = REAL_EXCEL / "simple-monthly-budget.xlsx"
    original = src.read_bytes()
    root = etree.fromstring(part(original, "xl/worksheets/sheet1.xml"))
    target = next(c for c in root.iter(f"{MAIN}c") if c.find(f"{MAIN}f") is not None)
    pkg = XlsxPackage.open(original)
    pkg.write_cells("Simple Monthly Budget", {xlsx_values.parse_ref(target.get("r")): 1})
    assert pkg.changed_parts() == {"xl/worksheets/sheet1.xml"} | CALC_PARTS
    data = pkg.to_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "xl/calcChain.xml" not in z.namelist()
        assert b"calcChain" not in z.read("xl/_rels/workbook.xml.rels")
        assert b"calcChain" not in z.read("[Content_Types].xml")
    load_openpyxl(data)


# --------------------------------------------------------------------------- styles, rows, dims
def make_register(path: Path, *, date1904: bool = False) -> None:
    wb = xlsxwriter.Workbook(path, {"date_1904": date1904})
    ws = wb.add_worksheet("登记")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    ws.set_column("C:C", 12, date_fmt)
    ws.set_row(5, None, bold)  # row 6: customFormat
    ws.write_row(0, 0, ["编号", "姓名", "受理日期", "状态"])
    ws.write_row(1, 0, [1, "张三"])
    ws.write_datetime(1, 2, dt.datetime(2024, 1, 2), date_fmt)
    ws.write(1, 3, "处理中", bold)
    ws.write(5, 0, "x")
    ws.autofilter(0, 0, 1, 3)
    wb.add_worksheet("汇总").write(0, 0, "月份")
    wb.close()


@pytest.mark.parametrize("date1904", [False, True])
def test_new_cells_take_column_or_row_style(tmp_path: Path, date1904: bool) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path, date1904=date1904)
    pkg = XlsxPackage.open(path)
    assert pkg.date1904 is date1904
    when = dt.date(2024, 10, 8)
    pkg.write_cells("登记", {(3, 3): when, (3, 2): "李四", (2, 4): "已办结", (6, 2): "bold row"})
    data = pkg.to_bytes()
    cells = cells_of(etree.fromstring(part(data, "xl/worksheets/sheet1.xml")))
    original = cells_of(etree.fromstring(part(path.read_bytes(), "xl/worksheets/sheet1.xml")))
    assert cells["C3"].get("s") == original["C2"].get("s") is not None  # the <col> style
    assert cells["B3"].get("s") is None
    assert cells["D2"].get("s") == original["D2"].get("s")  # kept on overwrite
    row6 = next(
        r
        for r in etree.fromstring(part(data, "xl/worksheets/sheet1.xml")).iter(f"{MAIN}row")
        if r.get("r") == "6"
    )
    assert cells["B6"].get("s") == row6.get("s")
    ws = load_openpyxl(data)["登记"]
    assert ws["C3"].is_date and ws["C3"].value == dt.datetime(2024, 10, 8)
    assert ws["D2"].font.b
    assert calamine_grid(data, "登记")[2][2] == when
    assert ws.dimensions == "A1:D6"


def test_rows_and_cells_stay_in_order_and_dimension_grows(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    pkg.write_cells(
        "登记",
        {(9, 2): "b9", (4, 7): "g4", (4, 1): "a4", (2, 6): "f2", (1, 5): "e1", (3, 30): "ad3"},
    )
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml"))
    rows = list(root.iter(f"{MAIN}row"))
    assert [int(r.get("r")) for r in rows] == [1, 2, 3, 4, 6, 9]
    for row in rows:
        cols = [xlsx_values.parse_ref(c.get("r"))[1] for c in row]
        assert cols == sorted(cols)
    assert root.find(f"{MAIN}dimension").get("ref") == "A1:AD9"
    assert rows[1].get("spans") == "1:6"  # widened from 1:4 for F2


def test_replace_rows_clears_below_and_extends_autofilter(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    rows = [
        [i, f"客户{i}", dt.date(2024, 1, 1) + dt.timedelta(days=i), "已办结"] for i in range(1, 101)
    ]
    pkg.replace_rows("登记", 2, rows)
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml"))
    assert root.find(f"{MAIN}autoFilter").get("ref") == "A1:D101"
    assert root.find(f"{MAIN}dimension").get("ref") == "A1:D101"
    grid = calamine_grid(pkg.to_bytes(), "登记")
    assert len(grid) == 101 and grid[100][:2] == [100.0, "客户100"]
    assert grid[5][0] == 5.0  # row 6's old "x" is gone
    assert cells_of(root)["C2"].get("s") is not None  # date column style

    pkg.replace_rows("登记", 2, [], autofilter=True)
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml"))
    assert root.find(f"{MAIN}autoFilter").get("ref") == "A1:D1"
    assert root.find(f"{MAIN}dimension").get("ref") == "A1:D1"
    pkg.replace_rows("登记", 2, rows[:3], autofilter=False)
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml"))
    assert root.find(f"{MAIN}autoFilter").get("ref") == "A1:D1"


def test_replace_rows_on_excel_sheet_with_autofilter() -> None:
    pkg = XlsxPackage.open(REAL_EXCEL / "mv-calculator-final-2-20-2013.xlsm")
    pkg.replace_rows("Variation Results", 10, [["a", 1], ["b", 2]])
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet8.xml"))
    assert root.find(f"{MAIN}autoFilter").get("ref") == "B9:H11"
    assert pkg.changed_parts() >= {"xl/worksheets/sheet8.xml"}


def test_clearing_keeps_cell_and_style(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    pkg.write_cells("登记", {(2, 3): None})
    cell = cells_of(etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml")))["C2"]
    assert cell.get("s") is not None and len(cell) == 0 and cell.get("t") is None


def test_bad_values_fail_before_any_change(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    bad: list[tuple[dict[tuple[int, int], object], type[Exception]]] = [
        ({(2, 1): "ok", (2, 2): object()}, TypeError),
        ({(2, 1): "ok", (2, 2): float("nan")}, ValueError),
        ({(2, 1): "ok", (0, 2): 1}, ValueError),
        ({(2, 1): "ok", (2, 16385): 1}, ValueError),
        ({(2, 1): "ok", (2, 2): "x" * 32768}, ValueError),
        ({(2, 1): "ok", (2, 2): "\ud800"}, ValueError),
        ({(2, 1): "ok", (2, 2): dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}, ValueError),
        ({(2, 1): "ok", (2, 2): dt.date(1899, 1, 1)}, ValueError),
    ]
    for cells, error in bad:
        with pytest.raises(error):
            pkg.write_cells("登记", cells)  # type: ignore[arg-type]
    assert pkg.changed_parts() == set()
    with pytest.raises(KeyError):
        pkg.write_cells("nope", {(1, 1): 1})
    with pytest.raises(ValueError, match="chartsheet"):
        chart = XlsxPackage.open(REAL_EXCEL / "WithChartSheet.xlsx")
        chart.write_cells(next(s.name for s in chart.sheets if s.kind == "chartsheet"), {(1, 1): 1})


def test_sheets_names_and_parts() -> None:
    pkg = XlsxPackage.open(REAL_EXCEL / "57181.xlsm")
    assert [(s.name, s.state, s.kind) for s in pkg.sheets[:2]] == [
        ("CCSInfo", "hidden", "worksheet"),
        ("General", "visible", "worksheet"),
    ]
    assert {s.kind for s in pkg.sheets} == {"worksheet", "chartsheet"}
    assert pkg.sheet("general").name == "General"
    names = XlsxPackage.open(REAL_EXCEL / "mv-calculator-final-2-20-2013.xlsm").defined_names()
    fdb = next(n for n in names if n.name == "_xlnm._FilterDatabase")
    assert (fdb.local_sheet, fdb.hidden, fdb.value) == (
        "Variation Results",
        True,
        "'Variation Results'!$B$9:$H$9",
    )
    budget = XlsxPackage.open(REAL_EXCEL / "simple-monthly-budget.xlsx")
    assert budget.read_part("xl/styles.xml") == part(
        (REAL_EXCEL / "simple-monthly-budget.xlsx").read_bytes(), "xl/styles.xml"
    )
    with pytest.raises(KeyError):
        budget.read_part("xl/nothing.xml")


def test_excel_serial_numbers() -> None:
    assert excel_serial(dt.date(1900, 1, 1)) == 1
    assert excel_serial(dt.date(1900, 2, 28)) == 59
    assert excel_serial(dt.date(1900, 3, 1)) == 61  # Excel's phantom 1900-02-29 is 60
    assert excel_serial(dt.date(2024, 1, 1)) == 45292
    assert excel_serial(dt.datetime(2024, 1, 1, 12)) == 45292.5
    assert excel_serial(dt.date(1904, 1, 1), date1904=True) == 0
    assert excel_serial(dt.date(2024, 1, 1), date1904=True) == 45292 - 1462


def test_fallback_zip_writer_keeps_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """Archives we cannot copy record by record (zip64) are rewritten with identical content."""
    src = (REAL_EXCEL / "SimpleMacro.xlsm").read_bytes()
    monkeypatch.setattr(xlsx_zip, "_scan_zip", lambda data: None)
    pkg = XlsxPackage.open(src)
    pkg.write_cells("Sheet1", {(2, 2): "x"})
    out = pkg.to_bytes()
    with zipfile.ZipFile(io.BytesIO(src)) as a, zipfile.ZipFile(io.BytesIO(out)) as b:
        assert a.namelist() == b.namelist()
        for info in a.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                assert a.read(info) == b.read(info.filename)
                assert b.getinfo(info.filename).date_time == info.date_time


# --------------------------------------------------------------------------- strings
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(XML_TEXT)
def test_escape_round_trips(text: str) -> None:
    escaped = escape_text(text)
    assert unescape_text(escaped) == text
    etree.fromstring(f"<t>{sheet_xml.xml_escape(escaped)}</t>")  # always well-formed


@pytest.fixture(scope="module")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("book") / "small.xlsx"
    make_register(path)
    return path.read_bytes()


# calamine leaves _xFFFE_/_xFFFF_ undecoded (Excel's escape for them is still what we write).
CALAMINE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(CALAMINE_TEXT, min_size=1, max_size=8))
def test_random_strings_round_trip_through_calamine(small_book: bytes, texts: list[str]) -> None:
    pkg = XlsxPackage.open(small_book)
    pkg.write_cells("登记", {(10 + i, 2): t for i, t in enumerate(texts)})
    grid = calamine_grid(pkg.to_bytes(), "登记")
    assert [grid_value(grid, 10 + i, 2) for i in range(len(texts))] == texts


def test_control_characters_and_literal_escapes() -> None:
    texts = [
        "a\x00b\x1fc",
        "_x0041_ stays literal",
        "tab\tcr\rlf\n",
        "\ufeffbom",
        "𠀀 emoji 😀",
        "<&>\"'",
    ]
    pkg = XlsxPackage.open(REAL_EXCEL / "64759.xlsx")
    pkg.write_cells("File", {(5 + i, 1): t for i, t in enumerate(texts)})
    xml = pkg.read_part("xl/worksheets/sheet1.xml")
    assert b"_x0000_" in xml and b"_x005F_x0041_" in xml and b"&#13;" in xml
    grid = calamine_grid(pkg.to_bytes(), "File")
    assert [grid_value(grid, 5 + i, 1) for i in range(len(texts))] == texts


# --------------------------------------------------------------------------- LibreOffice
@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_reads_patched_files(tmp_path: Path) -> None:
    patched: dict[Path, tuple[str, dict[tuple[int, int], object]]] = {}
    for name in [
        "56644.xlsx",
        "62629_target.xlsm",
        "NewStyleConditionalFormattings.xlsx",
        "64759.xlsx",
    ]:
        path = copy(REAL_EXCEL / name, tmp_path)
        pkg = XlsxPackage.open(path)
        sheet = next(s for s in pkg.sheets if s.kind == "worksheet").name
        writes, _ = plan_writes(pkg.read_part(pkg.sheet(sheet).part))
        pkg.write_cells(sheet, writes)
        pkg.save(backup=False)
        patched[path] = (sheet, writes)
    converted_paths = soffice_convert_all(list(patched), tmp_path / "out")
    for converted_path, (sheet, writes) in zip(converted_paths, patched.values(), strict=True):
        converted = converted_path.read_bytes()
        grid = calamine_grid(converted, sheet)
        for (r, c), want in writes.items():
            check_value(
                grid_value(grid, r, c),
                want.replace("\r\n", "\n") if isinstance(want, str) else want,
            )


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_csv_and_recalculated_shared_formula(tmp_path: Path) -> None:
    register = tmp_path / "register.xlsx"
    make_register(register)
    pkg = XlsxPackage.open(register)
    pkg.write_cells(
        "登记", {(3, 1): "=1+1", (3, 2): "李四", (3, 3): dt.date(2024, 10, 8), (3, 4): 2.5}
    )
    pkg.save(backup=False)
    cf = copy(REAL_EXCEL / "NewStyleConditionalFormattings.xlsx", tmp_path)
    pkg = XlsxPackage.open(cf)
    pkg.write_cells("CF", {(2, 4): "manual", (5, 1): 99})
    pkg.save(backup=False)
    # Recalculate on load, so the surviving shared formula is evaluated by LibreOffice itself.
    csv = soffice_convert(register, tmp_path / "csv", "csv:Text - txt - csv (StarCalc):44,34,76", recalc=True)
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert lines[2] == "=1+1,李四,2024-10-08,2.5"
    ws = openpyxl.load_workbook(soffice_convert(cf, tmp_path / "x", recalc=True), data_only=True)["CF"]
    assert ws["D2"].value == "manual"
    assert ws["E5"].value == 99 and ws["F5"].value == 99  # =$A5 still computed from the new anchor


def test_force_full_calculation_patches_only_workbook_xml() -> None:
    src = (REAL_EXCEL / "right-to-left.xlsx").read_bytes()
    pkg = XlsxPackage.open(src)
    pkg.force_full_calculation()
    assert pkg.changed_parts() == {"xl/workbook.xml"}
    wb = etree.fromstring(pkg.read_part("xl/workbook.xml"))
    assert wb.find(f"{MAIN}calcPr").attrib == {"calcId": "191028", "fullCalcOnLoad": "1"}
    assert wb.nsmap == etree.fromstring(part(src, "xl/workbook.xml")).nsmap  # mc:Ignorable prefixes
    pkg = XlsxPackage.open(pkg.to_bytes())
    pkg.force_full_calculation()
    assert pkg.changed_parts() == set()
    assert pkg.sheets[1].name == "عربى"


PRETTY = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
  <x:dimension ref="A1:B2"/>
  <x:sheetData>
    <x:row r="1" spans="1:2">
      <x:c r="A1" t="inlineStr"><x:is><x:t>head</x:t></x:is></x:c>
      <x:c t="inlineStr"><x:is><x:t>second</x:t></x:is></x:c>
    </x:row>
    {comment}
    <x:row>
      <x:c s='0'><x:v>1</x:v></x:c>
    </x:row>
  </x:sheetData>
  <x:pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>
</x:worksheet>
"""


@pytest.mark.parametrize("comment", ["", "<!-- written by hand -->"])
def test_prefixed_pretty_printed_sheet_without_refs(tmp_path: Path, comment: str) -> None:
    """Not Excel's style, but valid: x: prefix, indentation, rows/cells without r=, a comment."""
    path = tmp_path / "hand.xlsx"
    make_register(path)
    src = path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = PRETTY.format(comment=comment).encode()
            zout.writestr(info, data)
    pkg = XlsxPackage.open(buf.getvalue())
    pkg.write_cells("登记", {(2, 2): "新", (2, 1): 5, (4, 3): dt.date(2024, 1, 1)})
    xml = pkg.read_part("xl/worksheets/sheet1.xml")
    root = etree.fromstring(xml)
    assert b"<x:c " in xml and b"<c " not in xml
    assert [r.get("r") for r in root.iter(f"{MAIN}row")] == ["1", "2", "4"]
    # rows we touched got explicit refs; row 1 was not touched and keeps its implicit B1
    assert [c.get("r") for c in root.iter(f"{MAIN}c")] == ["A1", None, "A2", "B2", "C4"]
    assert root.find(f"{MAIN}dimension").get("ref") == "A1:C4"
    if not comment:  # untouched text keeps its bytes, indentation included
        assert b'      <x:c r="A1" t="inlineStr"><x:is><x:t>head</x:t></x:is></x:c>' in xml
    grid = calamine_grid(pkg.to_bytes(), "登记")
    assert grid[0][:2] == ["head", "second"] and grid[1][:2] == [5.0, "新"]
    pkg.replace_rows("登记", 2, [["a", "b"]])
    root = etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml"))
    assert [c.get("r") for c in root.iter(f"{MAIN}c")] == ["A1", "B1", "A2", "B2"]


# --------------------------------------------------------------------------- streaming save
# Content digests (see logical_digest) of every fixture patched as in
# test_real_excel_only_written_cells_change, produced by the writer before it streamed
# (commit 6e84c1f, which built whole parts and the whole zip in memory). The streaming
# writer must give the same content, entry by entry.
BEFORE_STREAMING = {
    "45540_form_Header.xlsx": "329b78973b63ce4efb07f3a7f7365bc0fd79026261b9fdd6be7078a6e83a7a2c",
    "51850.xlsx": "ff0ab665a35ec1b6404f7774c192e2eed8b008c5b63e2941cd7929c30258958d",
    "56644.xlsx": "d3184f056ea4f4f3afd7eb60b626afad0b1aaf91136b3c90eee7588191d3b058",
    "57181.xlsm": "21b24ee4802dea06c7fab2533605623cd85a3ba13f98489e1c6cdaca22af8fe7",
    "62629_target.xlsm": "f7b04275e485c62e4ebe6fbdda60a2a7e9a2976ef280a70cce5131569440917e",
    "64759.xlsx": "c3d3da6958436e9091a633b114c1a2e587604c92e64c3b509f10cb0b183c6645",
    # Its second sheet's rows are not replaced: that would cut through a table (refused since).
    "DataTableCities.xlsx": "613f2426b435f9da670a567d5a9035871b93e553431ac8472fc6029ef1499bc0",
    "ExcelPivotTableSample.xlsx": "fb6c6e3be9f06b8a243360f81a7f5fc1567c5f3275a20644d5f636f91cf5b212",
    "NewStyleConditionalFormattings.xlsx": "67a77dfe69d908d824185f1a259325612cb9681c145d1d19a9a94da03de9d13a",
    "SimpleMacro.xlsm": "4c80e4f771db2a5d0dbc953da3a0071722b298588ffb7c498d03fa2c183d84bd",
    "WithChartSheet.xlsx": "ae3616fb199939ef3633c3303223716a25678c759c685200b96a7ae7c4d2dc89",
    "mv-calculator-final-2-20-2013.xlsm": "e5952438fe121e7401195c722db2411845c1a17b410d32f6b3839472e46c38fa",
    "right-to-left.xlsx": "61eb011d0b1432c588a7a0a3ee07405903ee71922ed1793d5960e4bae4ca45e5",
    "simple-monthly-budget.xlsx": "5b4a9aa5f14a7d6a928cdf07f9829d04a3c859b00c9aa7cfb1e655b0c06db3a2",
}


def logical_digest(data: bytes) -> str:
    """Entries in order with their header fields and content; independent of zlib's output."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for i in z.infolist():
            fields = (i.filename, i.date_time, i.compress_type, i.CRC, i.file_size,
                      i.external_attr, i.flag_bits & 0x800, i.comment)  # fmt: skip
            digest.update(repr(fields).encode())
            digest.update(z.read(i))
    return digest.hexdigest()


def in_memory_zip(data: bytes, replaced: dict[str, bytes], removed: set[str]) -> bytes:
    """The writer before streaming: each new part compressed whole, the zip built in memory."""
    scanned = xlsx_zip._scan_zip(data)
    assert scanned is not None
    entries, comment = scanned
    out = bytearray(data[: min(e.start for e in entries)])
    central: dict[str, bytes] = {}
    for e in sorted(entries, key=lambda e: e.start):
        if e.name in removed:
            continue
        offset = len(out)
        if e.name in replaced:
            f = struct.unpack_from("<4s6H3L5H2L", e.central)
            name, rest = e.central[46 : 46 + f[10]], e.central[46 + f[10] + f[11] :]
            content = replaced[e.name]
            packer = zlib.compressobj(3, zlib.DEFLATED, -15)
            body = packer.compress(content) + packer.flush()
            crc, flags = zlib.crc32(content), f[3] & 0x800
            out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, 8, f[5], f[6], crc,
                               len(body), len(content), len(name), 0) + name + body  # fmt: skip
            central[e.name] = struct.pack(
                "<4s6H3L5H2L", b"PK\x01\x02", f[1], 20, flags, 8, f[5], f[6], crc, len(body),
                len(content), len(name), 0, len(rest), 0, f[14], f[15], offset,
            ) + name + rest  # fmt: skip
        else:
            out += data[e.start : e.end]
            central[e.name] = e.central[:42] + struct.pack("<L", offset) + e.central[46:]
    cd_off = len(out)
    for e in entries:
        out += central.get(e.name, b"")
    n = len(central)
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(out) - cd_off, cd_off, len(comment))
    return bytes(out + comment)


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.name)
def test_streamed_save_matches_the_in_memory_writer(src: Path, tmp_path: Path) -> None:
    path = copy(src, tmp_path)
    original = path.read_bytes()
    pkg = XlsxPackage.open(path)
    worksheets = [s for s in pkg.sheets if s.kind == "worksheet"]
    writes, _ = plan_writes(part(original, worksheets[0].part))
    pkg.write_cells(worksheets[0].name, writes)
    if len(worksheets) > 1 and not replaces_a_table(pkg, original, worksheets[1].name, 2):
        pkg.replace_rows(worksheets[1].name, 2, NEW_ROWS)
    changed = pkg.changed_parts()
    removed = changed - set(pkg.part_names())
    expected = in_memory_zip(original, {n: pkg.read_part(n) for n in changed - removed}, removed)
    assert pkg.to_bytes() == expected  # streamed into a BytesIO
    assert logical_digest(expected) == BEFORE_STREAMING[src.name]
    pkg.save()
    assert path.read_bytes() == expected  # streamed into the temp file
    assert pkg.changed_parts() == set() and pkg.to_bytes() == expected  # continues from it


def test_archive_outgrowing_the_raw_copier_is_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 4 GiB mid-stream (zip64): what was written is dropped and zipfile writes it all."""
    pkg = XlsxPackage.open(REAL_EXCEL / "56644.xlsx")
    pkg.write_cells("samplelist", {(2, 2): "新", (40, 3): 1.5})
    pkg.replace_rows("lists", 2, NEW_ROWS)
    streamed = pkg.to_bytes()

    def too_large(*args: object) -> None:
        raise xlsx_zip._TooLarge

    monkeypatch.setattr(xlsx_zip, "_stream_record", too_large)
    buf = io.BytesIO(b"kept")
    buf.seek(4)
    pkg.write_to(buf)
    assert buf.getvalue()[:4] == b"kept"
    with zipfile.ZipFile(io.BytesIO(streamed)) as a, zipfile.ZipFile(io.BytesIO(buf.getvalue()[4:])) as b:
        assert a.namelist() == b.namelist()
        for info in a.infolist():
            assert a.read(info) == b.read(info.filename)
            assert b.getinfo(info.filename).date_time == info.date_time


def test_a_rerun_that_changes_nothing_leaves_the_file_alone(tmp_path: Path) -> None:
    """A rerun that writes the same cells again changes no part, and the file is not saved: the same
    bytes, the same modification time (Excel, OneDrive and backups see no new version)."""
    path = copy(REAL_EXCEL / "56644.xlsx", tmp_path)
    writes, _ = plan_writes(part(path.read_bytes(), "xl/worksheets/sheet1.xml"))
    pkg = XlsxPackage.open(path)
    pkg.write_cells("samplelist", writes)
    pkg.replace_rows("lists", 2, NEW_ROWS)
    pkg.save()
    saved, mtime = path.read_bytes(), path.stat().st_mtime_ns

    pkg = XlsxPackage.open(path)
    pkg.write_cells("samplelist", writes)
    pkg.replace_rows("lists", 2, NEW_ROWS)
    assert pkg.changed_parts() == set()
    assert pkg.save() is None
    assert path.read_bytes() == saved and path.stat().st_mtime_ns == mtime


def test_streamed_save_keeps_the_safety_checks(tmp_path: Path) -> None:
    path = copy(REAL_EXCEL / "simple-monthly-budget.xlsx", tmp_path)
    original = path.read_bytes()
    pkg = XlsxPackage.open(path)
    pkg.write_cells("Simple Monthly Budget", {(30, 2): "新的一行"})
    (tmp_path / "~$simple-monthly-budget.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError):
        pkg.save()
    (tmp_path / "~$simple-monthly-budget.xlsx").unlink()
    path.write_bytes(original + b"\0")  # someone saved in between
    with pytest.raises(WorkbookChangedError):
        pkg.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["simple-monthly-budget.xlsx"]  # no temp
    path.write_bytes(original)
    assert pkg.save() == tmp_path / "simple-monthly-budget.bak.xlsx"
    assert (tmp_path / "simple-monthly-budget.bak.xlsx").read_bytes() == original
    other = tmp_path / "copy.xlsx"
    pkg.write_cells("Simple Monthly Budget", {(31, 2): "再一行"})
    assert pkg.save(other) is None and other.exists()  # a new file: no backup
    mtime = other.stat().st_mtime_ns
    again = XlsxPackage.open(path)
    again.write_cells("Simple Monthly Budget", {(31, 2): "再一行"})
    assert again.save(other) is None  # same bytes as the file there: not rewritten
    assert other.stat().st_mtime_ns == mtime
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_edits_are_held_as_splices_of_the_original(tmp_path: Path) -> None:
    """Untouched rows are not copied; an edited row keeps only its new bytes."""
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    pkg.write_cells("登记", {(2, 1): 1, (2, 2): "张三"})  # the values it has: nothing held
    sheet = pkg._sheets["xl/worksheets/sheet1.xml"]
    assert sheet.stored == {} and sheet.editing == set()
    pkg.write_cells("登记", {(2, 5): 42.5, (6, 3): "新"})
    assert sheet.editing == set() and set(sheet.stored) == {2, 6}
    held = sheet.stored[2]
    assert isinstance(held, tuple)
    new = [x for x in held if isinstance(x, bytes)]
    assert new == [b'<row r="2" spans="1:5">', b'<c r="E2"><v>42.5</v></c>']  # spans widened
    assert sheet.base.count(b"<sheetData>") == 1  # the original bytes, held once


def test_non_utf8_sheet_keeps_its_encoding() -> None:
    """Sheets declared in another encoding are edited in UTF-8 and written back in theirs."""
    path = REAL_EXCEL / "64759.xlsx"
    src = path.read_bytes()
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>caf\xe9</t>'
        '</is></c></row><row r="2"><c r="A2"><v>2</v></c></row></sheetData></worksheet>'
    ).encode("latin-1")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, xml if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info))
    pkg = XlsxPackage.open(buf.getvalue())
    pkg.write_cells("File", {(1, 1): "caf\xe9"})  # the value it has
    assert pkg.changed_parts() == set()
    pkg.write_cells("File", {(2, 2): "na\xefve"})
    out = part(pkg.to_bytes(), "xl/worksheets/sheet1.xml")
    assert out == xml.replace(
        b'<c r="A2"><v>2</v></c>',
        b'<c r="A2"><v>2</v></c><c r="B2" t="inlineStr"><is><t>na\xefve</t></is></c>',
    )  # Latin-1 bytes, not UTF-8; everything else as it was
    assert etree.fromstring(out).find(f".//{MAIN}c[@r='B2']/{MAIN}is/{MAIN}t").text == "na\xefve"


def make_big_register(path: Path, rows: int) -> None:
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws = wb.add_worksheet("登记")
    ws.set_column(12, 12, 14, date_fmt)  # the first computed column holds due times
    ws.write_row(0, 0, [f"列{c}" for c in range(1, 19)])
    base = dt.datetime(2026, 1, 5, 9)
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [f"BJ-{r:06d}", "张三" if r % 2 else "李四", r * 1.5, f"投诉内容{r % 97}",
                            r % 7, "已办结" if r % 3 else "处理中"])  # fmt: skip
        ws.write_datetime(r, 6, base + dt.timedelta(hours=r % 500), date_fmt)
    ws.autofilter(0, 0, rows, 17)
    overdue = wb.add_worksheet("逾期")
    overdue.write_row(0, 0, ["编号", "状态", "到期", "天数"])
    overdue.autofilter(0, 0, 0, 3)
    wb.close()


def computed(r: int, c: int) -> object:
    """A refresh's values: due times in column 13, then statuses, day counts, flags, blanks."""
    if c == 13:
        return None if r % 11 == 0 else dt.datetime(2026, 2, 1, 8, 30, 5) + dt.timedelta(minutes=r * 7)
    return [None, "已逾期", (r * c) % 1000 / 8, r % 2 == 0, r, "即将到期 (2)"][(r + c) % 6]


def test_large_patched_sheet_streams_and_round_trips_through_calamine(tmp_path: Path) -> None:
    n = 20_000
    path = tmp_path / "big.xlsx"
    make_big_register(path, n)
    original = path.read_bytes()
    pkg = XlsxPackage.open(path)
    sheet_size = len(part(original, "xl/worksheets/sheet1.xml"))
    for start in range(2, n + 2, 5_000):  # as a refresh writes: columns 13-18, in chunks
        cells = {(r, c): computed(r, c) for r in range(start, min(start + 5_000, n + 2)) for c in range(13, 19)}
        pkg.write_cells("登记", cells | {(start, 2): "王五"})  # one overwrite per chunk
    overdue = [[f"BJ-{i:06d}", "已逾期", dt.date(2026, 3, 1) + dt.timedelta(days=i % 40), i % 9 or None]
               for i in range(25_000)]  # fmt: skip
    pkg.replace_rows("逾期", 2, overdue)

    peak = save_measuring_peak(pkg, tmp_path / "streamed.xlsx")
    new_size = len(pkg.read_part("xl/worksheets/sheet1.xml"))
    assert new_size > sheet_size * 1.3
    # Streaming holds a few chunks and the compressed bytes of parts deflated ahead; the
    # writer before held the part's text, its bytes and the whole zip (over 2x new_size).
    assert peak < new_size / 3
    pkg.save()
    saved = path.read_bytes()
    assert saved == (tmp_path / "streamed.xlsx").read_bytes() == pkg.to_bytes()

    before, after = calamine_grid(original, "登记"), calamine_grid(saved, "登记")
    assert len(after) == n + 1
    for r in range(1, n + 2):
        old, new = before[r - 1], after[r - 1]
        for c in range(1, 19):
            if r >= 2 and 13 <= c <= 18:
                want = computed(r, c)
                check_value(grid_value(after, r, c), "" if want is None else want)
            elif r >= 2 and c == 2 and (r - 2) % 5_000 == 0:
                assert new[1] == "王五"
            else:
                assert grid_value(after, r, c) == grid_value(before, r, c), (r, c)
        assert old[:12] == new[:12] or (r - 2) % 5_000 == 0
    grid = calamine_grid(saved, "逾期")
    assert len(grid) == 25_001 and grid[1][:2] == ["BJ-000000", "已逾期"]
    assert same_date(grid[25_000][2], overdue[-1][2])
    root = etree.fromstring(part(saved, "xl/worksheets/sheet2.xml"))
    assert root.find(f"{MAIN}autoFilter").get("ref") == "A1:D25001"
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        assert z.testzip() is None
        untouched = [n for n in z.namelist()
                     if n not in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/workbook.xml")]
    for name in untouched:
        assert part(saved, name) == part(original, name)
    # workbook.xml changes only in the Overdue sheet's hidden filter name, which follows its autoFilter
    assert part(saved, "xl/workbook.xml") == part(original, "xl/workbook.xml").replace(
        "逾期!$A$1:$D$1<".encode(), "逾期!$A$1:$D$25001<".encode())
    assert os.path.getsize(path) < len(original) * 3


# --------------------------------------------------------------------------- streamed writes
# write_columns and replace_rows are recorded and applied while the sheet streams out on
# save. They must give exactly what write_cells (a held sheet) gives, and fall back to it
# for what the streamed way does not take (a formula where we write, rows without r=...).
def held(pkg: XlsxPackage, *sheets: str) -> XlsxPackage:
    """pkg with these sheets edited the held way, as write_cells edits them."""
    for name in sheets:
        pkg._worksheet(name)
    return pkg


def as_cells(columns: list[int], rows: dict[int, tuple[object, ...]]) -> dict[tuple[int, int], object]:
    return {(r, c): v for r, values in rows.items() for c, v in zip(columns, values, strict=True)}


def write_both(data: bytes, sheet: str, columns: list[int], rows: dict[int, tuple[object, ...]]) -> tuple[XlsxPackage, XlsxPackage]:
    """The same write streamed (write_columns) and held (write_cells, in 5,000-row chunks)."""
    streamed = XlsxPackage.open(data)
    streamed.write_columns(sheet, columns, rows)
    eager = XlsxPackage.open(data)
    order = sorted(rows)
    for start in range(0, len(order), 5_000):
        eager.write_cells(sheet, as_cells(columns, {r: rows[r] for r in order[start : start + 5_000]}))
    return streamed, eager


def assert_same(streamed: XlsxPackage, eager: XlsxPackage) -> bytes:
    assert streamed.changed_parts() == eager.changed_parts()
    data = streamed.to_bytes()
    assert data == eager.to_bytes()
    return data


def real_columns(sheet_xml: bytes) -> tuple[list[int], list[int]]:
    """Rows of a sheet, and columns to write: two past its last one and B (not ascending)."""
    root = etree.fromstring(sheet_xml)
    rows = [int(r.get("r")) for r in root.iter(f"{MAIN}row")]
    cols = [xlsx_values.parse_ref(c.get("r"))[1] for c in root.iter(f"{MAIN}c") if c.get("r")]
    last = max(cols, default=2)
    return rows, [max(last, 2) + 3, max(last, 2) + 1, 2]


def rerun_values(r: int, shift: int) -> tuple[object, ...]:
    base = dt.datetime(2026, 1, 5, 9) + dt.timedelta(hours=r + shift)
    return (base, None if (r + shift) % 4 == 0 else ["已逾期", "按时完成"][(r + shift) % 2],
            (r * 7 + shift) % 11 / 4 if r % 3 else None)  # fmt: skip


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.name)
def test_write_columns_equals_write_cells_on_real_excel(src: Path) -> None:
    """First write and a rerun over it, on every fixture's first worksheet: same bytes."""
    original = src.read_bytes()
    first = next(s for s in XlsxPackage.open(original).sheets if s.kind == "worksheet")
    rows, columns = real_columns(part(original, first.part))
    edges = table_edge_rows(original, first.part)  # never written: see test_tables
    targets = [r for r in rows[:80] if r not in edges] + [max(rows, default=1) + 2]
    streamed, eager = write_both(original, first.name, columns, {r: rerun_values(r, 0) for r in targets})
    data = assert_same(streamed, eager)
    # A rerun with other values (some cells emptied, some filled) over the cells written.
    streamed, eager = write_both(data, first.name, columns, {r: rerun_values(r, 1) for r in targets})
    data = assert_same(streamed, eager)
    grid = calamine_grid(data, first.name)
    for r in targets:
        for c, want in zip(columns, rerun_values(r, 1), strict=True):
            if want is not None:
                check_value(grid_value(grid, r, c), want)
    load_openpyxl(data)


def test_write_columns_over_a_formula_falls_back_to_the_held_sheet() -> None:
    """C3 anchors a shared formula: the write is applied as write_cells applies it."""
    src = (REAL_EXCEL / "NewStyleConditionalFormattings.xlsx").read_bytes()
    rows = {3: ("manual", 1.5), 4: (None, 2.5), 30: ("new", None)}
    streamed, eager = write_both(src, "CF", [3, 30], rows)
    assert_same(streamed, eager)
    assert "xl/worksheets/sheet1.xml" in streamed._sheets  # held after the scan met the formula
    anchor = cells_of(etree.fromstring(streamed.read_part("xl/worksheets/sheet1.xml")))["C5"].find(f"{MAIN}f")
    assert dict(anchor.attrib) == {"t": "shared", "si": "1", "ref": "C5:C17"}


@pytest.mark.parametrize("comment", ["", "<!-- written by hand -->"])
def test_write_columns_on_a_sheet_without_refs_falls_back(comment: str, tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    make_register(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = PRETTY.format(comment=comment).encode()
            zout.writestr(info, data)
    streamed, eager = write_both(buf.getvalue(), "登记", [2, 4], {2: ("新", 1), 4: (None, dt.date(2024, 1, 1))})
    assert_same(streamed, eager)


def test_several_writes_on_one_sheet_apply_in_order(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    src = path.read_bytes()
    writes = [([5, 6], {2: ("a", 1), 3: ("b", None), 6: (None, 2)}),
              ([6, 7], {2: (3, "c"), 4: ("d", None), 6: (None, None)}),
              ([5], {3: (None,), 9: ("e",)})]  # fmt: skip
    streamed, eager = XlsxPackage.open(src), XlsxPackage.open(src)
    for columns, rows in writes:
        streamed.write_columns("登记", columns, rows)
        eager.write_cells("登记", as_cells(columns, rows))
    assert_same(streamed, eager)
    streamed.write_cells("登记", {(2, 1): "after"})  # applies the recorded writes to a held sheet first
    eager.write_cells("登记", {(2, 1): "after"})
    assert_same(streamed, eager)
    streamed, eager = XlsxPackage.open(src), held(XlsxPackage.open(src), "登记")
    streamed.replace_rows("登记", 3, [["x", 1]])
    streamed.write_columns("登记", [2], {2: ("y",), 3: ("z",)})  # over rows replace_rows wrote
    eager.replace_rows("登记", 3, [["x", 1]])
    eager.write_cells("登记", {(2, 2): "y", (3, 2): "z"})
    assert_same(streamed, eager)


def test_write_columns_checks_before_recording(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    for columns, rows, error in [
        ([5, 6], {2: ("ok", object())}, TypeError),
        ([5, 6], {2: ("ok", float("inf"))}, ValueError),
        ([5, 6], {2: ("ok", dt.datetime(1899, 12, 1))}, ValueError),
        ([5, 6], {2: ("ok",)}, ValueError),  # one value for two columns
        ([5, 5], {2: ("ok", "ok")}, ValueError),
        ([5, 16385], {2: ("ok", 1)}, ValueError),
        ([5], {0: ("ok",)}, ValueError),
    ]:
        with pytest.raises(error):
            pkg.write_columns("登记", columns, rows)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pkg.replace_rows("登记", 2, [["ok"], ["x" * 32768]])
    assert pkg.changed_parts() == set() and not pkg._streams
    pkg.write_columns("登记", [5], {})
    pkg.write_columns("登记", [5], {2: (None,), 40: (None,)})  # clears nothing: no change
    assert pkg.changed_parts() == set()
    pkg.write_columns("登记", [5], iter([(2, ["ok"])]))  # pairs and lists are taken too
    assert grid_value(calamine_grid(pkg.to_bytes(), "登记"), 2, 5) == "ok"


def big_values(r: int, shift: int) -> tuple[object, ...]:
    return tuple(computed(r + shift, c) for c in range(13, 19))


def test_streamed_writes_at_scale_equal_held_ones(tmp_path: Path) -> None:
    """12,000 rows: many inflated pieces, output chunks and write_cells batches; first run,
    a rerun with changes (and a clerk's cell right of the computed ones), an idempotent rerun."""
    n = 12_000
    path = tmp_path / "big.xlsx"
    make_big_register(path, n)
    original = path.read_bytes()
    columns = list(range(13, 19))
    rows = {r: big_values(r, 0) for r in range(2, n + 2)}
    streamed, eager = write_both(original, "登记", columns, rows)
    overdue = [(f"BJ-{i:06d}", "已逾期", dt.date(2026, 3, 1) + dt.timedelta(days=i % 40), i % 9 or None)
               for i in range(7_000)]  # fmt: skip
    streamed.replace_rows("逾期", 2, overdue)
    held(eager, "逾期").replace_rows("逾期", 2, overdue)

    peak = save_measuring_peak(streamed, tmp_path / "streamed.xlsx")
    first = assert_same(streamed, eager)
    assert (tmp_path / "streamed.xlsx").read_bytes() == first
    sheet_size = len(part(first, "xl/worksheets/sheet1.xml"))
    assert peak < sheet_size / 2  # a few chunks in flight and caches, not the sheet
    grid = calamine_grid(first, "登记")
    assert len(grid) == n + 1
    for r in (2, 777, n + 1):
        for c, want in zip(columns, rows[r], strict=True):
            check_value(grid_value(grid, r, c), "" if want is None else want)

    # A rerun: other values over the cells written, and a cell a clerk added at column 20.
    clerk = XlsxPackage.open(first)
    clerk.write_cells("登记", {(r, 20): "备注" for r in range(2, n + 2, 97)})
    again = clerk.to_bytes()
    rows = {r: big_values(r, 1 if r % 5 else 0) for r in range(2, n + 2)}
    streamed, eager = write_both(again, "登记", columns, rows)
    second = assert_same(streamed, eager)
    assert calamine_grid(second, "登记")[98][19] == "备注"  # row 99

    # The same values again: no part changes, and the file is byte for byte the same.
    pkg = XlsxPackage.open(second)
    pkg.write_columns("登记", columns, rows)
    assert pkg.changed_parts() == set() and pkg.to_bytes() == second


ODD_HEAD = ('<?xml version="1.0" encoding="{enc}" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C5"/><cols><col min="5" max="6" '
            'width="12" style="1" customWidth="1"/></cols>')  # fmt: skip
ODD_SHEETS = {
    # As Excel writes rows, with a row-styled row (customFormat), an empty <row/>, a row
    # without spans, and a row whose written cells a run before left (one of them cleared).
    "excel-like": '<sheetData><row r="1" spans="1:3"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
                  '<row r="2" spans="1:3"><c r="A2"><v>1</v></c><c r="C2"><v>3</v></c></row>'
                  '<row r="3" spans="1:3" s="1" customFormat="1"><c r="B3" s="1"><v>2</v></c></row>'
                  '<row r="4"/><row r="5"><c r="A5"><v>5</v></c><c r="E5" s="1"><v>7</v></c>'
                  '<c r="F5" s="1"/></row></sheetData>',
    "r-not-first": '<sheetData><row spans="1:3" r="1"><c r="A1"><v>1</v></c></row><row r="2" spans="1:3">'
                   '<c r="A2"><v>1</v></c></row></sheetData>',
    "out-of-order": '<sheetData><row r="2"><c r="A2"><v>2</v></c></row><row r="1"><c r="A1"><v>1</v>'
                    '</c></row></sheetData>',
    "empty": "<sheetData/>",
    "extLst-in-row": '<sheetData><row r="2"><c r="A2"><v>1</v></c><extLst><ext uri="x"/></extLst></row>'
                     "</sheetData>",
    "whitespace": '<sheetData>\n <row r="2">\n  <c r="A2"><v>1</v></c>\n  <c r="E2"><v>4</v></c>\n </row>\n'
                  "</sheetData>",
}
ODD_TAIL = '<autoFilter ref="A1:C1"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'


@pytest.mark.parametrize("enc", ["UTF-8", "ISO-8859-1"])
@pytest.mark.parametrize("kind", sorted(ODD_SHEETS))
def test_streamed_writes_on_odd_sheets_equal_held_ones(kind: str, enc: str, tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    xml = (ODD_HEAD.format(enc=enc) + ODD_SHEETS[kind] + ODD_TAIL).encode("utf-8" if enc == "UTF-8" else "latin-1")
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, xml if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info))
    src = buf.getvalue()
    rows: dict[int, tuple[object, ...]] = {r: (None, None) for r in range(1, 10)}  # rows no longer records
    text = "新" if enc == "UTF-8" else "caf\xe9"  # what the sheet's encoding can hold
    rows |= {2: (text, 2.5), 3: (dt.date(2024, 1, 1), None), 4: (True, "x"), 5: (None, 8), 7: (text, None), 9: (None, 1)}
    streamed, eager = write_both(src, "登记", [6, 5], rows)
    data = assert_same(streamed, eager)
    if kind == "excel-like" and enc == "UTF-8":
        assert "xl/worksheets/sheet1.xml" not in streamed._sheets  # streamed, not held
        assert streamed.changed_parts() == {"xl/worksheets/sheet1.xml"}
    # The rerun over what the first write left, and replace_rows from row 3.
    streamed, eager = write_both(data, "登记", [5, 6], {r: (v[1], v[0]) for r, v in rows.items()})
    assert_same(streamed, eager)
    streamed, eager = XlsxPackage.open(src), held(XlsxPackage.open(src), "登记")
    for pkg in (streamed, eager):
        pkg.replace_rows("登记", 3, [["a", None, 1], [None, None], [None, dt.date(2024, 2, 2)]])
    assert_same(streamed, eager)
    streamed, eager = XlsxPackage.open(src), held(XlsxPackage.open(src), "登记")
    for pkg in (streamed, eager):
        pkg.replace_rows("登记", 1, [])
    assert_same(streamed, eager)

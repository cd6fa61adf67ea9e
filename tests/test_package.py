"""XlsxPackage on real Excel files: the cells we write change, every other byte stays.

Each real-excel fixture is copied, patched (new and overwritten cells, a formula-looking
string, a date, CJK text, replace_rows on a second sheet), saved to disk, and checked
entry by entry against the original zip, element by element against the original sheet
XML, and read back with openpyxl, python-calamine and (when installed) LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import struct
import subprocess
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from xlcomplaints.workbook import package as package_module
from xlcomplaints.workbook.package import XlsxPackage, escape_text, excel_serial, unescape_text

REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-excel"
FILES = sorted(REAL.glob("*.xls[xm]"))
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
HAS_SOFFICE = shutil.which("soffice") is not None
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
        r, c = package_module._parse_ref(cell.get("r"))
        writes[(r, c)] = "已办结" if cell in plain else 42
    if rows:  # a new cell at the end of an existing row
        first = next(root.iter(f"{MAIN}row"))
        cols = [package_module._parse_ref(c.get("r"))[1] for c in first.iter(f"{MAIN}c")]
        writes[(int(first.get("r")), max(cols, default=0) + 2)] = "新列"
    return writes, bool(formulas)


NEW_ROWS: list[list[object]] = [
    ["编号", 1, dt.date(2024, 1, 2), "=1+1"],
    ["王五", None, 3.25, False],
    ["", "line1\r\nline2", None, "  leading and trailing  "],
]


def check_value(got: object, want: object) -> None:
    if isinstance(want, dt.date):
        assert same_date(got, want), (got, want)
    elif isinstance(want, bool):
        assert got is want or got == want
    elif isinstance(want, int | float):
        assert got == pytest.approx(want)
    else:
        assert got == want


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
    written = {package_module._ref(c, r) for r, c in writes}
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
    path = copy(REAL / "56644.xlsx", tmp_path)
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
    src = (REAL / "NewStyleConditionalFormattings.xlsx").read_bytes()
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
    pkg = XlsxPackage.open(REAL / "NewStyleConditionalFormattings.xlsx")
    pkg.write_cells("CF", {(3, 3): "manual"})
    cells = cells_of(etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml")))
    assert cells["C3"].find(f"{MAIN}f") is None
    anchor = cells["C4"].find(f"{MAIN}f")
    assert dict(anchor.attrib) == {"t": "shared", "si": "1", "ref": "C4:C17"}
    assert anchor.text == "$A4"
    assert cells["C5"].find(f"{MAIN}f").attrib == {"t": "shared", "si": "1"}


def test_two_dimensional_shared_formula_is_unshared() -> None:
    """D2 anchors D2:U17 (=$A2); no remaining cell can anchor it, so each gets its formula."""
    pkg = XlsxPackage.open(REAL / "NewStyleConditionalFormattings.xlsx")
    pkg.write_cells("CF", {(2, 4): "manual"})
    cells = cells_of(etree.fromstring(pkg.read_part("xl/worksheets/sheet1.xml")))
    assert cells["D2"].find(f"{MAIN}f") is None
    for ref, text in [("E2", "$A2"), ("U2", "$A2"), ("D3", "$A3"), ("G9", "$A9")]:
        f = cells[ref].find(f"{MAIN}f")
        assert (dict(f.attrib), f.text) == ({}, text), ref
    assert not [c for c in cells.values() if c.find(f"{MAIN}f[@si='0']") is not None]
    assert cells["C4"].find(f"{MAIN}f").get("si") == "1"  # the other group is untouched


def test_overwriting_a_formula_drops_calc_chain(tmp_path: Path) -> None:
    src = REAL / "simple-monthly-budget.xlsx"
    original = src.read_bytes()
    root = etree.fromstring(part(original, "xl/worksheets/sheet1.xml"))
    target = next(c for c in root.iter(f"{MAIN}c") if c.find(f"{MAIN}f") is not None)
    pkg = XlsxPackage.open(original)
    pkg.write_cells("Simple Monthly Budget", {package_module._parse_ref(target.get("r")): 1})
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
        cols = [package_module._parse_ref(c.get("r"))[1] for c in row]
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
    pkg = XlsxPackage.open(REAL / "mv-calculator-final-2-20-2013.xlsm")
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
        chart = XlsxPackage.open(REAL / "WithChartSheet.xlsx")
        chart.write_cells(next(s.name for s in chart.sheets if s.kind == "chartsheet"), {(1, 1): 1})


def test_sheets_names_and_parts() -> None:
    pkg = XlsxPackage.open(REAL / "57181.xlsm")
    assert [(s.name, s.state, s.kind) for s in pkg.sheets[:2]] == [
        ("CCSInfo", "hidden", "worksheet"),
        ("General", "visible", "worksheet"),
    ]
    assert {s.kind for s in pkg.sheets} == {"worksheet", "chartsheet"}
    assert pkg.sheet("general").name == "General"
    names = XlsxPackage.open(REAL / "mv-calculator-final-2-20-2013.xlsm").defined_names()
    fdb = next(n for n in names if n.name == "_xlnm._FilterDatabase")
    assert (fdb.local_sheet, fdb.hidden, fdb.value) == (
        "Variation Results",
        True,
        "'Variation Results'!$B$9:$H$9",
    )
    budget = XlsxPackage.open(REAL / "simple-monthly-budget.xlsx")
    assert budget.read_part("xl/styles.xml") == part(
        (REAL / "simple-monthly-budget.xlsx").read_bytes(), "xl/styles.xml"
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
    src = (REAL / "SimpleMacro.xlsm").read_bytes()
    monkeypatch.setattr(package_module, "_scan_zip", lambda data: None)
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
    etree.fromstring(f"<t>{package_module._xml_escape(escaped)}</t>")  # always well-formed


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
    pkg = XlsxPackage.open(REAL / "64759.xlsx")
    pkg.write_cells("File", {(5 + i, 1): t for i, t in enumerate(texts)})
    xml = pkg.read_part("xl/worksheets/sheet1.xml")
    assert b"_x0000_" in xml and b"_x005F_x0041_" in xml and b"&#13;" in xml
    grid = calamine_grid(pkg.to_bytes(), "File")
    assert [grid_value(grid, 5 + i, 1) for i in range(len(texts))] == texts


# --------------------------------------------------------------------------- LibreOffice
def soffice_convert(files: list[Path], fmt: str, out: Path, profile: Path) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), *map(str, files)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


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
        path = copy(REAL / name, tmp_path)
        pkg = XlsxPackage.open(path)
        sheet = next(s for s in pkg.sheets if s.kind == "worksheet").name
        writes, _ = plan_writes(pkg.read_part(pkg.sheet(sheet).part))
        pkg.write_cells(sheet, writes)
        pkg.save(backup=False)
        patched[path] = (sheet, writes)
    out = tmp_path / "out"
    soffice_convert(list(patched), "xlsx", out, tmp_path / "profile")
    for path, (sheet, writes) in patched.items():
        converted = (out / path.name).with_suffix(".xlsx").read_bytes()
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
    cf = copy(REAL / "NewStyleConditionalFormattings.xlsx", tmp_path)
    pkg = XlsxPackage.open(cf)
    pkg.write_cells("CF", {(2, 4): "manual", (5, 1): 99})
    pkg.save(backup=False)
    profile = tmp_path / "profile"
    # Recalculate on load, so the surviving shared formula is evaluated by LibreOffice itself.
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
        'oor:op="fuse"><value>0</value></prop></item></oor:items>',
        encoding="utf-8",
    )
    soffice_convert(
        [register], "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv", profile
    )
    lines = (tmp_path / "csv" / "register.csv").read_text(encoding="utf-8").splitlines()
    assert lines[2] == "=1+1,李四,2024-10-08,2.5"
    soffice_convert([cf], "xlsx", tmp_path / "x", profile)
    ws = openpyxl.load_workbook(tmp_path / "x" / cf.name, data_only=True)["CF"]
    assert ws["D2"].value == "manual"
    assert ws["E5"].value == 99 and ws["F5"].value == 99  # =$A5 still computed from the new anchor


def test_force_full_calculation_patches_only_workbook_xml() -> None:
    src = (REAL / "right-to-left.xlsx").read_bytes()
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

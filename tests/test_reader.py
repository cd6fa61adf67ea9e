"""Template → rows typed as a clerk would (openpyxl) → read → the models we expect."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HAS_SOFFICE, head_office, soffice_convert
from xlcomplaints.core import rows as rows_module
from xlcomplaints.core.cells import CellError
from xlcomplaints.core.models import Complaint
from xlcomplaints.core.problems import Level
from xlcomplaints.flows import assign_ids_flow, check, refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import ColType, Column
from xlcomplaints.workbook import file as file_module
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 11, 22, 9, 0)


def test_round_trip_equal_models(branch) -> None:
    path = branch(register=[
        {"no": "BJ01-2611-001", "received_at": "2026/11/3 14:05", "case_type": "投诉", "channel": "热线",
         "customer": " 张三 ", "phone": 13812345678, "location": "3栋1202", "category": "Facilities",
         "severity": "重大", "validity": "valid", "complexity": "复杂", "escalated": "是",
         "content": "电梯停运", "department": "工程部", "handler": "王工",
         "acknowledged_at": datetime(2026, 11, 3, 15, 0), "first_contact_at": "2026年11月3日 15时30分",
         "resolved_at": "2026.11.5", "closed_at": 46000.5},
        {"received_at": "２０２６-１１-０４ ０９:１０", "channel": "Email", "customer": "李四",
         "phone": "+86 139-1234-5678", "category": "收费", "severity": "一般", "validity": "无效",
         "content": "+1 不是公式 @客服", "escalated": "N"},
    ])
    read = read_branch(FileWorkbook(path))
    assert read.problems == []
    a, b = read.data.complaints
    assert a == Complaint(
        row=2, no="BJ01-2611-001", received_at=datetime(2026, 11, 3, 14, 5), case_type="complaint", channel="phone",
        customer="张三", phone="13812345678", location="3栋1202", category="facilities", severity="major",
        validity="valid", complexity="complex", escalated=True, content="电梯停运", department="工程部",
        handler="王工", acknowledged_at=datetime(2026, 11, 3, 15), first_contact_at=datetime(2026, 11, 3, 15, 30),
        resolved_at=datetime(2026, 11, 5), closed_at=datetime(2025, 12, 9, 12))
    assert b == Complaint(row=3, received_at=datetime(2026, 11, 4, 9, 10), channel="email", customer="李四",
                          phone="13912345678", category="billing", severity="general", validity="invalid",
                          content="+1 不是公式 @客服", escalated=False)
    assert read.data.settings.branch_code == "BJ01"
    assert read.data.settings.office_start == time(9, 0)
    assert len(read.data.settings.policy) == 10  # the default policy's ten rules


def test_header_tolerance_extra_columns_and_trailing_blanks(branch, tmp_path: Path) -> None:
    path = branch(register=[{"received_at": "2026-11-03 10:00", "channel": "电话", "customer": "王五",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    ws.protection.sheet = False
    ws.insert_rows(1)                      # the office adds a title row above the header
    ws["A1"] = "北京一店 2026 年投诉登记表"
    ws.insert_cols(3)                      # and its own column
    ws["C2"] = "录入人"
    ws["C3"] = "小林"
    ws["B2"] = " 受理\n时间 "                # header typed with a line break and spaces
    ws["E2"] = "ＣＨＡＮＮＥＬ"               # full-width English label
    for r in range(4, 30):                 # formatted but empty trailing rows
        ws.cell(r, 2).number_format = "yyyy-mm-dd"
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    layout = read.layouts["register"]
    assert layout.header_row == 2 and layout.columns["received_at"] == 2 and layout.columns["channel"] == 5
    assert [c.customer for c in read.data.complaints] == ["王五"]
    assert read.data.complaints[0].received_at == datetime(2026, 11, 3, 10)
    assert read.problems == []


def test_a_totals_line_under_a_register_is_one_warning_not_a_record(branch) -> None:
    """Offices add 合计 / Total lines under their tables: one located warning each, not a record with
    every cell flagged, and refresh writes nothing on them. A number that merely starts like one is data."""
    complaint = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "王五", "category": "其他",
                 "severity": "一般", "validity": "有效", "content": "x"}
    path = branch(register=[{**complaint, "no": "SUM01-2610001"}, {**complaint, "no": "合计"}, {},
                            {"no": "合计：2 宗", "received_at": "共 2 宗"}],
                  tracking=[{"no": "SUM01-2610001", "at": "2026-10-08 11:00", "step": "分派"},
                            {"no": " Total: ", "at": "1"}, {"no": "Grand Total", "at": "1"}])
    read = read_branch(FileWorkbook(path))
    assert [c.no for c in read.data.complaints] == ["SUM01-2610001"] and len(read.data.tracking) == 1
    assert [(p.sheet, p.cell, p.code, p.level, p.value) for p in read.problems] == [
        ("投诉登记", "A3", "row.totals", Level.WARNING, "合计"),
        ("投诉登记", "A5", "row.totals", Level.WARNING, "合计：2 宗"),
        ("处理跟踪", "A3", "row.totals", Level.WARNING, " Total: "),
        ("处理跟踪", "A4", "row.totals", Level.WARNING, "Grand Total")]
    assert read.problems[1].message("zh").startswith("第 5 行看起来是合计行")
    refresh_flow(FileWorkbook(path), now=datetime(2026, 10, 9, 9))
    ws = openpyxl.load_workbook(path)["投诉登记"]
    status = B.REGISTER.index("status") + 1
    assert ws.cell(2, status).value and [ws.cell(r, status).value for r in (3, 4, 5)] == [None, None, None]


def test_a_totals_word_in_the_second_or_third_column_or_in_a_column_of_the_offices_own(branch) -> None:
    """合计 stands where the office put it: after a blank first cell, or in a 序号 column the office
    added at the left. Each line is one warning at the word's own cell, and refresh leaves it as
    typed — a count in a computed column too, even when no input cell of the line is filled."""
    complaint = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "王五", "category": "其他",
                 "severity": "一般", "validity": "有效", "content": "x"}
    path = branch(register=[{**complaint, "no": "SUM01-2610001"}])
    status = B.REGISTER.index("status") + 1
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    ws["B4"] = "小计："  # A4 blank: the word in the second column (received_at)
    ws["C4"] = "1 宗"
    ws.cell(4, status).value = "=1"
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    assert [c.no for c in read.data.complaints] == ["SUM01-2610001"]
    assert [(p.cell, p.column, p.value) for p in read.problems] == [("B4", "受理时间", "小计：")]

    ws.protection.sheet = False
    ws.insert_cols(1)  # the office's own 序号 column, its 合计 with a count in a computed column only
    ws["A1"], ws["A2"], ws["A5"] = "序号", 1, "合 计"
    ws["A4"] = None
    ws.cell(5, status + 1).value = "=COUNTA(B2:B3)"
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    assert [(p.cell, p.column, p.value, p.message("en")[:34]) for p in read.problems] == [
        ("C4", "受理时间", "小计：", "Row 4 looks like a totals line, no"),
        ("A5", None, "合 计", "Row 5 looks like a totals line, no")]
    refresh_flow(FileWorkbook(path), now=datetime(2026, 10, 9, 9))
    ws = openpyxl.load_workbook(path)["投诉登记"]
    assert ws.cell(2, status + 1).value and ws.cell(4, status + 1).value == "=1"
    assert ws.cell(5, status + 1).value == "=COUNTA(B2:B3)"


def _total_words_one_by_one(values: set[object]) -> tuple[set[object], set[object]]:
    """The totals words and blanks, every text looked at in full, as the rule says (``_total_words`` passes over
    an ASCII value that cannot be one at its first or last letter): the reference."""
    from xlcomplaints.core.rows.records import _TOTAL_PREFIXES, TOTAL_WORDS

    looked = [v for v in values if isinstance(v, str)]
    words = {v for v in looked if "".join(v.split()) and len(v) <= 30
             and ((t := "".join(v.split()).rstrip(":：").lower()) in TOTAL_WORDS or t.startswith(_TOTAL_PREFIXES))}
    return words, {v for v in values if v is None or (v in looked and not "".join(v.split()))}


@settings(max_examples=400, deadline=None)
@given(values=st.sets(st.one_of(
    st.none(), st.integers(), st.from_regex(r"[ST ]?[A-Za-z0-9 -]{0,12}[0-9 :]?", fullmatch=True),
    st.sampled_from(["合计", "合计：61 宗", " Total ", "TOTAL:", "sum", "Sum 3", "s1", "t", "小计2", "grand total",
                     "", "  ", "\u3000", "Subtotal：", "S00001-25120001", "total1"]),
    st.text(max_size=8)), max_size=12))
def test_totals_words_are_found_as_the_rule_says(values: set[object]) -> None:
    from xlcomplaints.core.rows.records import _total_words

    assert _total_words(values) == _total_words_one_by_one(values)


def test_a_totals_word_further_right_or_after_data_is_not_a_totals_line(branch) -> None:
    """Only the row's first non-blank cell, in the first three columns, can mark a totals line:
    a complaint whose customer is called Sum, or 合计 in the fifth column, is read as data."""
    complaint = {"received_at": "2026-10-08 10:00", "channel": "电话", "customer": "Sum", "category": "其他",
                 "severity": "一般", "validity": "有效", "content": "合计"}
    path = branch(register=[{**complaint, "no": "SUM01-2610001"}, {"customer": "合计"}])
    read = read_branch(FileWorkbook(path))
    assert [c.customer for c in read.data.complaints] == ["Sum", "合计"]
    assert B.REGISTER.index("customer") == 4
    assert "row.totals" not in {p.code for p in read.problems}


def test_a_time_of_day_or_a_date_where_it_does_not_belong_is_a_located_problem(branch) -> None:
    """14:30 typed into 受理时间 (Excel stores a time of day) or a date picked into 投诉渠道: each is
    a problem at its cell showing what was typed; showing it used to stop the whole read."""
    path = branch(register=[{"no": "T-1", "received_at": "2026-10-08 10:00", "channel": "电话", "customer": "王五",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}] * 2)
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    ws["B2"], ws["B2"].number_format = time(14, 30), "h:mm"
    ws["D3"], ws["D3"].number_format = datetime(2026, 10, 3), "yyyy-mm-dd"
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    assert [(p.cell, p.value) for p in read.problems if p.level is Level.ERROR] == [
        ("B2", "14:30:00"), ("D3", "2026-10-03")]


_ROW = {"no": "T-1", "received_at": "2026-10-08 10:00", "channel": "电话", "customer": "王五",
        "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}


def _letter(key: str) -> str:
    return openpyxl.utils.get_column_letter(B.REGISTER.index(key) + 1)


def test_a_required_cell_showing_an_error_value_says_so(branch) -> None:
    """A VLOOKUP that failed shows #N/A in 受理时间: calamine reads it as blank, but the clerk
    sees #N/A, so the problem names the error, not an empty cell. A truly empty required cell
    still says it is empty, and an error in a column that may be blank is read as blank."""
    path = branch(register=[_ROW, {**_ROW, "no": "T-2"}, {**_ROW, "no": "T-3", "customer": ""}])
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    received, closed = _letter("received_at"), _letter("closed_at")
    for ref, text in ((f"{received}2", "#N/A"), (f"{closed}3", "#VALUE!")):
        ws[ref].value, ws[ref].data_type = text, "e"  # as Excel stores a formula's error result
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    errors = [(p.cell, p.code, p.value) for p in read.problems if p.level is Level.ERROR]
    assert errors == [(f"{received}2", "cell.formula_error", "#N/A"), (f"{_letter('customer')}4", "required", None)]
    shown = next(p for p in read.problems if p.code == "cell.formula_error")
    assert "#N/A" in shown.message("zh") and "公式" in shown.message("zh")
    assert "#N/A" in shown.message("en") and "formula" in shown.message("en")
    assert read.data.complaints[1].closed_at is None


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_an_error_value_computed_by_libreoffice_is_named(branch, tmp_path: Path) -> None:
    """The same through an independent spreadsheet engine: formulas LibreOffice evaluates to
    #DIV/0! and #N/A, saved as it saves them."""
    path = branch(register=[_ROW, {**_ROW, "no": "T-2"}])
    wb = openpyxl.load_workbook(path)
    ws = wb["投诉登记"]
    received, customer = _letter("received_at"), _letter("customer")
    ws[f"{received}2"] = "=1/0"
    ws[f"{customer}3"] = "=NA()"
    wb.save(path)
    converted = soffice_convert(path, tmp_path / "lo", recalc=True)
    read = read_branch(FileWorkbook(converted))
    errors = {(p.cell, p.code, p.value) for p in read.problems if p.level is Level.ERROR}
    assert errors == {(f"{received}2", "cell.formula_error", "#DIV/0!"),
                      (f"{customer}3", "cell.formula_error", "#N/A")}


def test_complaint_numbers_match_whatever_their_letters_case(branch) -> None:
    """bj01-2610001 on the Register, BJ01-2610001 on Tracking, ｂｊ01-2610001 on Callbacks: one
    complaint (a callback for it used to count as one for no complaint), and assign-ids does not
    hand out BJ01-2610001 again."""
    path = branch(register=[{"no": "bj01-2610001", "received_at": "2026-10-08 10:00", "channel": "电话",
                             "customer": "王五", "category": "其他", "severity": "一般", "validity": "有效",
                             "content": "x", "resolved_at": "2026-10-09 10:00"},
                            {"received_at": "2026-10-09 10:00", "channel": "电话", "customer": "赵六",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "y"}],
                  tracking=[{"no": "BJ01-2610001", "at": "2026-10-08 11:00", "step": "分派"}],
                  callbacks=[{"no": "ｂｊ01-2610001", "at": "2026-10-10 10:00", "method": "电话", "caller": "小林", "outcome": "满意",
                              "score": 9}])
    read, problems = check(FileWorkbook(path), now=NOW)
    assert {r.no for r in (*read.data.complaints[:1], *read.data.tracking, *read.data.callbacks)} == {"BJ01-2610001"}
    assert [p.code for p in problems if p.level is Level.ERROR] == []
    assign_ids_flow(FileWorkbook(path), now=NOW)
    assert openpyxl.load_workbook(path)["投诉登记"]["A3"].value == "BJ01-2610002"


def test_bad_cells_are_located_never_guessed(branch) -> None:
    path = branch(register=[
        {"no": "A1", "received_at": "11/3", "channel": "飞鸽传书", "customer": "张三", "phone": "12345",
         "category": "其他", "severity": "一般", "validity": "有效", "content": "x"},
        {"no": "A1", "received_at": "2026-11-03 10:00", "channel": "电话", "customer": "李四",
         "category": "其他", "severity": "", "validity": "有效", "content": "y",
         "closed_at": "2026-11-01 10:00", "resolved_at": "2027-06-01"},
    ], tracking=[{"no": "ZZ-9", "at": "2026-11-04 10:00", "step": "分派"}],
       callbacks=[{"no": "A1", "at": "2026-11-05 10:00", "method": "电话", "caller": "小林", "outcome": "满意",
                   "score": 11}])
    _, problems = check(FileWorkbook(path), now=NOW)
    found = {(p.sheet, p.cell, p.code) for p in problems}
    assert ("投诉登记", "B2", "date.no_year") in found
    assert ("投诉登记", "D2", "choice.unknown") in found
    assert ("投诉登记", "F2", "phone.too_short") in found
    assert ("投诉登记", "K3", "required") in found
    assert ("投诉登记", "A3", "no.duplicate") in found
    assert ("投诉登记", "Z3", "time.before_received") in found  # closed before received
    assert ("投诉登记", "W3", "time.future") in found
    assert ("投诉登记", "Z3", "time.out_of_order") in found     # closed before resolved
    assert ("处理跟踪", "A2", "ref.unknown_no") in found
    assert ("回访记录", "F2", "number.too_large") in found
    by_cell = {p.cell: p for p in problems if p.sheet == "投诉登记"}
    p = by_cell["D2"]
    assert p.column == "投诉渠道" and p.value == "飞鸽传书" and p.level is Level.ERROR
    assert "电话" in p.message("zh") and "Phone" in p.message("en")


@pytest.mark.parametrize(("content", "code"), [
    (b"", "file.not_workbook"),
    (b"hello, not a workbook", "file.not_workbook"),
    (b"PK\x03\x04broken zip", "file.corrupt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "file.old_xls"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600, "file.encrypted"),
])
def test_unreadable_files_say_why(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == code
    assert "x.xlsx" in e.value.message("zh") and "x.xlsx" in e.value.message("en")


@pytest.mark.parametrize(("name", "content", "code"), [
    ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "file.old_xls"),
    ("x.et", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "file.other_format"),
    ("x.ods", b"PK\x03\x04", "file.corrupt"),  # a damaged zip is damaged, whatever its name
    ("x.csv", "受理时间,投诉渠道\n".encode(), "file.other_format"),
    ("x.txt", b"hello", "file.not_workbook"),
])
def test_other_formats_are_told_to_save_as_xlsx(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == code
    if code == "file.other_format":
        assert ".xlsx" in e.value.message("zh") and "save it as an Excel workbook" in e.value.message("en")


def test_an_xlsb_or_ods_package_is_another_format(tmp_path: Path) -> None:
    import zipfile
    for name, part in (("x.xlsb", "xl/workbook.bin"), ("x.ods", "content.xml")):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr(part, "x")
        with pytest.raises(WorkbookError) as e:
            read_branch(FileWorkbook(tmp_path / name))
        assert e.value.code == "file.other_format" and name in e.value.message("en")


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_a_spreadsheet_renamed_xlsx_is_named_by_what_it_is(branch, tmp_path: Path) -> None:
    """An .ods (here one LibreOffice wrote) or an .xlsb package saved under an .xlsx name is told to
    be saved as .xlsx, not called "not an Excel workbook"."""
    ods = soffice_convert(branch(), tmp_path / "lo", "ods")
    renamed = tmp_path / "bj01-from-lo.xlsx"
    ods.rename(renamed)
    import zipfile
    with zipfile.ZipFile(tmp_path / "binary.xlsx", "w") as z:
        z.writestr("xl/workbook.bin", "x")
    for path, what in ((renamed, "OpenDocument .ods"), (tmp_path / "binary.xlsx", "Excel binary")):
        with pytest.raises(WorkbookError) as e:
            read_branch(FileWorkbook(path))
        assert e.value.code == "file.other_format" and what in e.value.message("en"), e.value.message("en")


def test_a_folder_or_a_missing_path_says_which(tmp_path: Path) -> None:
    for path, code in ((tmp_path, "file.is_folder"), (tmp_path / "gone.xlsx", "file.missing")):
        with pytest.raises(WorkbookError) as e:
            FileWorkbook(path)
        assert e.value.code == code and str(path) in e.value.message("en")


def _damage(path: Path, part: str) -> None:
    """Flip bytes inside one part's compressed data, as a bad disk or a cut download would."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    data = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_sheet_is_reported_as_corrupt(branch) -> None:
    """No CRC pass at open: the damage is found when the sheet is read, with the same error."""
    path = branch(register=[{"received_at": "2026-11-03 10:00", "channel": "电话", "customer": "王五",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}] * 200)
    port = FileWorkbook(path)
    read_branch(port)  # the undamaged file reads
    register = next(s for s in port._package.sheets if s.name == "投诉登记")
    _damage(path, register.part)
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == "file.corrupt" and "投诉登记" in e.value.message("en")


def test_a_workbook_not_from_our_templates(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["投诉编号", "受理时间"])
    wb.save(path)
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == "file.not_ours"


#: Semver as the README states it, against 1.1.0: an older minor and a patch-newer one are read.
@pytest.mark.parametrize(("version", "ok"), [("1.0.0", True), ("1.1.0", True), ("1.1.7", True), ("0.9.0", False),
                                             ("1.2.0", False), ("1.9.0", False), ("2.0.0", False)])
def test_template_versions(branch, version: str, ok: bool) -> None:
    path = branch()
    wb = openpyxl.load_workbook(path)
    stamp = wb.defined_names["xlcomplaints.template"]
    kind, _, fp = stamp.attr_text.strip('="').split("|")
    stamp.attr_text = f'="{kind}|{version}|{fp}"'
    wb.save(path)
    if ok:
        read_branch(FileWorkbook(path))
        return
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(path))
    assert e.value.code == "file.version_unsupported"
    assert B.BRANCH_TEMPLATE_VERSION in e.value.message("en") and version in e.value.message("en")


def test_settings_are_validated_like_any_sheet(branch) -> None:
    path = branch()
    wb = openpyxl.load_workbook(path)
    ws = wb["设置"]
    labels = {ws.cell(r, 1).value: r for r in range(1, 20)}
    ws.cell(labels["上班时间"], 2, "午饭后")
    ws.cell(labels["重复投诉判定期(天)"], 2, 0)
    policy_first = next(r for r in range(1, 60) if ws.cell(r, 1).value == "受理通知")
    ws.cell(policy_first, 6, "二十四")
    ws.cell(policy_first, 7, "周")
    wb.save(path)
    read = read_branch(FileWorkbook(path))
    found = {(p.cell, p.code) for p in read.problems}
    assert (f"B{labels['上班时间']}", "time.unreadable") in found
    assert (f"B{labels['重复投诉判定期(天)']}", "number.too_small") in found
    assert (f"F{policy_first}", "number.unreadable") in found
    assert (f"G{policy_first}", "choice.unknown") in found
    # a rule that could not be read is left out, never half-applied
    assert all(r.stage != "acknowledge" for r in read.data.settings.policy)


@pytest.mark.parametrize("large", [False, True], ids=["small", "large-sheet-path"])
def test_rows_stream_from_a1_whatever_the_used_range(tmp_path: Path, monkeypatch, large: bool) -> None:
    """calamine starts at the first used cell; the port still numbers rows and columns from A1.
    A large sheet takes another path (memory handed back after its last row): same rows."""
    if large:
        monkeypatch.setattr(file_module, "LARGE_SHEET_CELLS", 1)
    path = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    wb.active["C3"] = "x"
    wb.active["D4"] = 5
    wb.save(path)
    rows = list(FileWorkbook(path).rows(wb.active.title))
    assert len(rows) == 4 and rows[2][2] == "x" and rows[3][3] == 5
    assert all(v in (None, "") for v in rows[0]) and len(rows[0]) == 4


def test_a_large_register_reads_the_same(branch, monkeypatch) -> None:
    path = branch(register=[{"received_at": f"2026-11-0{1 + i % 9} 10:00", "channel": "电话", "customer": f"客户{i}",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}
                            for i in range(30)])
    small = read_branch(FileWorkbook(path))
    monkeypatch.setattr(file_module, "LARGE_SHEET_CELLS", 1)
    large = read_branch(FileWorkbook(path))
    assert large.data == small.data and len(large.data.complaints) == 30
    assert large.problems == small.problems


@pytest.mark.parametrize("model_name", ["Complaint", "TrackingStep", "CallbackAttempt", "CalendarEntry"])
def test_a_record_read_cannot_be_changed(model_name: str) -> None:
    """Records are shared (by the engine's results, the report's facts): none can be changed once read."""
    from dataclasses import FrozenInstanceError, replace

    from xlcomplaints.core import models

    record = getattr(models, model_name)(row=7)
    assert replace(record, row=8).row == 8 and record.row == 7
    with pytest.raises(FrozenInstanceError):
        record.row = 9  # type: ignore[misc]


@pytest.fixture(scope="module")
def demo_branch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return head_office(tmp_path_factory.mktemp("demo")) / "branches" / "BJ01.xlsx"


@pytest.mark.parametrize("model_name", ["Complaint", "TrackingStep", "CallbackAttempt", "CalendarEntry"])
def test_records_are_made_as_their_constructor_makes_them(demo_branch: Path, model_name: str) -> None:
    """``core.rows.records._maker`` (the read's one speed trick): a record equal to the constructor's, field by
    field, of the same type, as frozen; on a demo branch's records and on values of every type."""
    from dataclasses import FrozenInstanceError, fields

    from xlcomplaints.core import models
    from xlcomplaints.core.rows.records import _maker

    model = getattr(models, model_name)
    names = [f.name for f in fields(model)]
    data = read_branch(FileWorkbook(demo_branch)).data
    read = {"Complaint": data.complaints, "TrackingStep": data.tracking, "CallbackAttempt": data.callbacks,
            "CalendarEntry": data.calendar}[model_name]
    rows = [tuple(getattr(r, n) for n in names) for r in read]
    rows += [tuple(v for _ in names) for v in (None, 0, 1.5, "", "中文", datetime(2026, 1, 2, 3, 4), True)]
    make = _maker(model)
    for values in rows:
        made, built = make(values), model(*values)
        assert type(made) is model and made == built and hash(made) == hash(built)
        assert all(getattr(made, n) is getattr(built, n) for n in names)
        with pytest.raises(FrozenInstanceError):
            made.row = 9  # type: ignore[misc]
    with pytest.raises(ValueError):
        make(rows[-1][:-1])  # a value short: refused, as the constructor would


def test_a_record_with_work_after_its_constructor_is_made_by_it() -> None:
    from dataclasses import dataclass

    from xlcomplaints.core.rows.records import _maker

    @dataclass(frozen=True, slots=True)
    class Checked:
        row: int | None = None

        def __post_init__(self) -> None:
            if self.row == 0:
                raise ValueError("row 0")

    assert _maker(Checked)((3,)) == Checked(3)
    with pytest.raises(ValueError, match="row 0"):
        _maker(Checked)((0,))


# ------------------------------------------------------------------ as-is fast paths
MESSY_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(" \u3000\t\n\r\x00\x85_x000D_中文ABC1"), max_size=12)
# Mostly clean values, as real columns are, with the pieces that make a value not clean.
NEARLY_CLEAN = st.lists(st.sampled_from(["中", "A", "1", "-", "é", " ", "_x000D_", "\t"]), min_size=1,
                        max_size=6).map("".join)
MOBILE = st.from_regex(r"1[3-9]\d{9}", fullmatch=True)
MESSY = st.one_of(NEARLY_CLEAN, NEARLY_CLEAN, MESSY_TEXT, MOBILE, MOBILE, st.from_regex(r"1\d{9,10}", fullmatch=True),
                  st.datetimes(), st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1901, 1, 1)),
                  st.integers(), st.none())
FAST_COLUMNS = [c for s in B.BRANCH_SHEETS for c in s.input_columns if c.type in rows_module._AS_IS]


@settings(max_examples=300, deadline=None)
@given(value=MESSY, i=st.integers(0, 10_000))
def test_a_value_taken_as_it_is_is_what_the_parser_returns(value: object, i: int) -> None:
    col = FAST_COLUMNS[i % len(FAST_COLUMNS)]
    if rows_module._AS_IS[col.type](value, getattr(col, "max_len", None)):
        assert rows_module.parse_cell(value, col) == value


TEXTISH = st.one_of(NEARLY_CLEAN, NEARLY_CLEAN, NEARLY_CLEAN, MESSY_TEXT, st.integers())
ALIKE = {ColType.DATETIME: st.one_of(st.datetimes(), st.datetimes(), st.datetimes(max_value=datetime(1901, 1, 1)),
                                     MESSY_TEXT),
         ColType.PHONE: st.one_of(MOBILE, MOBILE, MOBILE, st.from_regex(r"1\d{9,10}", fullmatch=True), NEARLY_CLEAN),
         ColType.TEXT: TEXTISH, ColType.LONGTEXT: TEXTISH,
         ColType.CODE: st.one_of(st.from_regex(r"[A-Z0-9]{1,3}(-[A-Z0-9 ]{1,4})?", fullmatch=True), TEXTISH)}


@settings(max_examples=500, deadline=None)
@given(kind=st.sampled_from(sorted(rows_module._ALL_AS_IS)), data=st.data(), max_len=st.sampled_from([None, 3, 11]))
def test_a_column_checked_at_once_is_checked_value_by_value(kind: ColType, data: st.DataObject,
                                                            max_len: int | None) -> None:
    values = data.draw(st.lists(ALIKE[kind].filter(lambda v: v != ""), min_size=1, max_size=6))
    one = rows_module._AS_IS[kind]
    assert rows_module._ALL_AS_IS[kind](values, max_len) == all(one(v, max_len) for v in values)


def _cell_by_cell(raw: list[object], col: Column) -> tuple[list[object], list[bool], list[tuple[int, str]]]:
    """What a column of a block reads as, one cell at a time through the parser: the reference."""
    values: list[object] = []
    filled: list[bool] = []
    problems: list[tuple[int, str]] = []
    for i, v in enumerate(raw):
        try:
            value = None if v is None or v == "" else rows_module.parse_cell(v, col)
        except CellError as e:
            values.append(None)
            filled.append(True)
            problems.append((i, e.code))
            continue
        values.append(value)
        filled.append(value is not None)
        if value is None and col.required:
            problems.append((i, "required"))
    return values, filled, problems


@settings(max_examples=300, deadline=None)
@given(data=st.data(), i=st.integers(0, 10_000))
def test_a_column_reads_as_its_cells_parsed_one_by_one(data: st.DataObject, i: int) -> None:
    col = FAST_COLUMNS[i % len(FAST_COLUMNS)]
    raw = data.draw(st.lists(st.one_of(ALIKE[col.type], ALIKE[col.type], st.sampled_from([None, "", 0])), max_size=8))
    column = rows_module._column(raw, col, False)
    got = (list(column.values), list(column.filled), [(i, code) for i, code, _, _ in column.problems(col.required)])
    assert got == _cell_by_cell(raw, col)


def test_equal_values_of_a_column_are_one_object() -> None:
    """A 50,000-row register repeats names, dates and texts; one object each keeps it in memory."""
    col = B.REGISTER.column("department")
    a, b = "".join(["客服", "部"]), "".join(["客", "服部"])  # equal, but two objects, as calamine makes them
    values = list(rows_module._column([a, None, b, "工程部"], col, False).values)
    assert values == ["客服部", None, "客服部", "工程部"] and values[0] is values[2]


def test_a_true_typed_as_a_score_is_no_score_whatever_else_the_column_holds(branch) -> None:
    """评分 is a whole number: a cell holding TRUE (Excel's yes/no, as a clerk's ✓ pasted in) is not one, and says
    so at its cell, also when another callback of the sheet scored 1 (Excel's TRUE equals 1 as Python compares; each
    cell is read for what it holds). And a 1 under a TRUE is still a 1."""
    callback = {"at": "2026-10-10 10:00", "method": "电话", "caller": "小林", "outcome": "满意"}
    for first, second in ((1, True), (True, 1)):
        true_at = 3 if second is True else 2
        path = branch(f"true-{true_at}.xlsx", register=[{"no": "BJ01-2610001", "received_at": "2026-10-08 10:00", "channel": "电话",
                                 "customer": "王五", "category": "其他", "severity": "一般", "validity": "有效",
                                 "content": "x"}],
                      callbacks=[{**callback, "no": "BJ01-2610001", "score": first},
                                 {**callback, "no": "BJ01-2610001", "score": second}])
        read = read_branch(FileWorkbook(path))
        assert {c.row: c.score for c in read.data.callbacks} == {true_at: None, 5 - true_at: 1}
        score = openpyxl.utils.get_column_letter(B.CALLBACKS.index("score") + 1)
        assert [(p.sheet, p.cell, p.code) for p in read.problems if p.level is Level.ERROR] == [
            ("回访记录", f"{score}{true_at}", "number.unreadable")]


EVERY_COLUMN = [c for s in B.BRANCH_SHEETS for c in s.input_columns]
#: The values Excel's cells give that compare equal across types (TRUE == 1 == 1.0, FALSE == 0), among others. Drawn
#: by index: a list of ``st.sampled_from`` values never held both of two equal ones (TRUE and 1) in 300 examples.
_ALIKE_VALUES: list[object] = [True, False, 1, 0, 1.0, 0.0, 2, 2.0, 1.5, "1", "TRUE", None, ""]
EQUAL_ACROSS_TYPES = st.integers(0, len(_ALIKE_VALUES) - 1).map(_ALIKE_VALUES.__getitem__)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), i=st.integers(0, 10_000))
def test_every_column_reads_as_its_cells_parsed_one_by_one_whatever_their_types(data: st.DataObject, i: int) -> None:
    """Each cell is read for what it holds, in every column a branch sheet has: a TRUE beside a 1 is a TRUE."""
    col = EVERY_COLUMN[i % len(EVERY_COLUMN)]
    raw = data.draw(st.lists(EQUAL_ACROSS_TYPES, max_size=8))  # the messy texts: the tests above
    column = rows_module._column(raw, col, False)
    got = (list(column.values), list(column.filled), [(i, code) for i, code, _, _ in column.problems(col.required)])
    assert got == _cell_by_cell(raw, col)

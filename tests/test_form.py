"""The complaint handling form (投诉处理单), on real files: a demo branch, the form written with
XlsxWriter, read back with openpyxl, and (with LibreOffice) printed to PDF and counted by page.

The statuses on the form are checked against what refresh writes on the same workbook at the same
minute, complaint by complaint, stage by stage, hand-off by hand-off.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.conftest import HAS_SOFFICE
from tests.test_excel_adapter import FakeBook, sheet_cells
from xlcomplaints.cli import app
from xlcomplaints.core.models import BranchData, Complaint
from xlcomplaints.demo import make_branch
from xlcomplaints.excel import entry
from xlcomplaints.flows import refresh_flow
from xlcomplaints.form.run import default_output, form_flow
from xlcomplaints.report.masking import mask_phone
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import form as F
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.problems import PROBLEMS
from xlcomplaints.templates.macro import build_branch_xlsm
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import BranchRead, read_branch

NOW = datetime(2026, 11, 2, 9, 0)
STATUS_COL = 6  # the deadlines table: stage (A:B), due (C:D), done (E:F), status (G), late by (H)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_branch(tmp_path_factory.mktemp("demo") / "bj01.xlsx", "BJ01", "北京朝阳店", n=40, seed=1)


def _copy(src: Path, tmp_path: Path, name: str | None = None) -> Path:
    out = tmp_path / (name or src.name)
    shutil.copyfile(src, out)
    return out


def _read(path: Path) -> BranchRead:
    return read_branch(FileWorkbook(path))


def _busiest(data: BranchData) -> Complaint:
    """The numbered complaint (with a readable received time) with the most steps and callbacks recorded."""
    def weight(c: Complaint) -> int:
        return sum(s.no == c.no for s in data.tracking) + sum(a.no == c.no for a in data.callbacks)
    return max((c for c in data.complaints if c.no and c.received_at), key=weight)


def _grid(path: Path, sheet: str | None = None) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _texts(grid: list[list[Any]]) -> list[Any]:
    return [v for row in grid for v in row if v is not None]


def _stage_rows(grid: list[list[Any]], lang: str = "zh") -> dict[str, list[Any]]:
    labels = {v.STAGE.label(code, lang): code for code in v.STAGE.codes}
    return {labels[row[0]]: row for row in grid if row[0] in labels}


# --- what a form holds -------------------------------------------------------------------------


def test_the_form_holds_the_complaints_facts_steps_and_callbacks(demo: Path, tmp_path: Path) -> None:
    data = _read(demo).data
    c = _busiest(data)
    before = demo.read_bytes()
    result = form_flow(FileWorkbook(demo), [c.no or ""], tmp_path / "form.xlsx", now=NOW)
    assert demo.read_bytes() == before  # the clerk's workbook is only read
    assert result.numbers == [c.no] and result.not_found == ()
    grid = _grid(result.output, c.no)
    texts = _texts(grid)
    assert grid[0][0] == f"{data.settings.branch_name} 投诉处理单"
    assert f"投诉编号：{c.no}" in texts
    for value in (c.customer, c.phone, c.content, c.request, c.department, c.handler, c.root_cause,
                  c.corrective_action, c.result, c.received_at):
        assert value and value in texts, value
    assert v.CATEGORY.label(c.category or "", "zh") in texts
    steps = [s for s in data.tracking if s.no == c.no]
    calls = [a for a in data.callbacks if a.no == c.no]
    assert len(steps) >= 3 and calls
    for s in steps:
        assert s.at in texts and v.STEP.label(s.step or "", "zh") in texts
        assert s.note is None or s.note in texts
    for a in calls:
        assert a.at in texts and a.comments in texts and v.CALLBACK_OUTCOME.label(a.outcome or "", "zh") in texts
    # the tables run in time order, as the clerk recorded them
    step_times = [row[0] for row in grid if isinstance(row[0], datetime) and row[1] in v.STEP.labels("zh")]
    assert step_times == sorted(s.at for s in steps if s.at)
    for key in F.SIGNERS:  # the three signature boxes
        assert F.text(key, "zh") in texts
    assert texts.count(F.text("signature", "zh")) == len(F.SIGNERS)


def test_every_status_on_the_forms_is_what_refresh_writes(demo: Path, tmp_path: Path) -> None:
    """All the demo's complaints (a row to correct among them): each stage's due time and status, the
    overall status, escalation and next action, and each hand-off's status on Tracking equal what a
    refresh at the same minute writes into the Register's and Tracking's grey columns."""
    refreshed = _copy(demo, tmp_path, "refreshed.xlsx")
    assert refresh_flow(FileWorkbook(refreshed), now=NOW).changed
    read = _read(refreshed)
    reg, trk = read.layouts["register"], read.layouts["tracking"]
    register = FileWorkbook(refreshed).values(read.sheets["register"])
    tracking = FileWorkbook(refreshed).values(read.sheets["tracking"])
    numbered = [c for c in read.data.complaints if c.no]
    result = form_flow(FileWorkbook(demo), [c.no or "" for c in numbered], tmp_path / "all.xlsx", now=NOW)
    assert len(result.forms) == len(numbered) and not result.not_found
    wb = openpyxl.load_workbook(result.output)
    assert len(wb.worksheets) == len(numbered)
    corrected = 0
    for c, ws in zip(numbered, wb.worksheets, strict=True):
        grid = [list(row) for row in ws.iter_rows(values_only=True)]
        row = register[(c.row or 0) - 1]

        def cell(key: str, row: list[Any] = row) -> Any:
            value = row[reg.columns[key] - 1] if reg.columns[key] <= len(row) else None
            return None if value == "" else value  # a blank grey cell reads as ""

        stages = _stage_rows(grid)
        assert set(stages) == set(v.STAGE.codes)
        for stage, line in stages.items():
            assert line[STATUS_COL] == cell(f"{stage}_status"), (c.no, stage)
            assert line[2] == cell(f"{stage}_due"), (c.no, stage)
        standing = {r[0]: r[1] for r in grid if r[0]} | {r[4]: r[5] for r in grid if r[4]}
        for key in ("status", "escalation", "next_action", "repeat_of"):
            assert standing[B.REGISTER.column(key).zh] == cell(key), (c.no, key)
        corrected += cell("acknowledge_status") is None
        for s in (s for s in read.data.tracking if s.no == c.no):
            printed = next(r for r in grid if r[0] == s.at and r[1] == v.STEP.label(s.step or "", "zh"))
            assert printed[7] == (tracking[(s.row or 0) - 1][trk.columns["step_status"] - 1] or None), (c.no, s.row)
    assert corrected == 1  # the demo's unreadable received time: no status, as on the Register


def test_mask_hides_phone_numbers_wherever_they_stand(demo: Path, tmp_path: Path) -> None:
    c = _busiest(_read(demo).data)
    assert c.phone
    plain = _texts(_grid(form_flow(FileWorkbook(demo), [c.no or ""], tmp_path / "p.xlsx", now=NOW).output))
    assert c.phone in plain  # the branch's own form: as on the Register
    masked = _texts(_grid(form_flow(FileWorkbook(demo), [c.no or ""], tmp_path / "m.xlsx", now=NOW,
                                    mask=True).output))
    assert mask_phone(c.phone) in masked
    assert not [t for t in masked if isinstance(t, str) and (c.phone in t or re.search(r"1[3-9]\d{9}", t))]
    assert any(isinstance(t, str) and F.text("masked", "zh") in t for t in masked)


def test_several_numbers_one_sheet_each_in_the_order_asked(demo: Path, tmp_path: Path) -> None:
    numbers = [c.no for c in _read(demo).data.complaints if c.no][:3][::-1]
    asked = [numbers[0].lower(), f" {numbers[1]} ", numbers[2]]  # typed as a clerk might: folded like the Register
    result = form_flow(FileWorkbook(demo), asked, tmp_path / "three.xlsx", now=NOW)
    assert result.numbers == numbers
    wb = openpyxl.load_workbook(result.output)
    assert wb.sheetnames == numbers
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) in ((None, None), (1, 1))


def test_unknown_numbers_are_named(demo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "none.xlsx"
    gone = runner.invoke(app, ["form", str(demo), "NO-SUCH-1", "NO-SUCH-2", "-o", str(out), "--lang", "en"])
    assert gone.exit_code == 2 and not out.exists()
    assert "NO-SUCH-1, NO-SUCH-2" in gone.output and "no form was written" in gone.output
    with pytest.raises(WorkbookError) as e:
        form_flow(FileWorkbook(demo), ["X-1"], out, now=NOW)
    assert e.value.code == "form.not_found"
    first = next(c.no for c in _read(demo).data.complaints if c.no)
    some = runner.invoke(app, ["form", str(demo), first or "", "NO-SUCH-3", "-o", str(out), "--now",
                               "2026-11-02 09:00", "--lang", "zh"])
    assert some.exit_code == 1 and out.exists(), some.output
    assert "未找到投诉编号：NO-SUCH-3" in some.output and f"已写出 {out}" in some.output


def test_the_command_writes_next_to_the_workbook_by_default_and_never_over_it(demo: Path, tmp_path: Path) -> None:
    book = _copy(demo, tmp_path)
    no = next(c.no for c in _read(book).data.complaints if c.no) or ""
    done = CliRunner().invoke(app, ["form", str(book), no, "--lang", "zh"])
    assert done.exit_code == 0, done.output
    assert default_output(book, [no], "zh") == tmp_path / f"bj01-处理单-{no}.xlsx"
    assert (tmp_path / f"bj01-处理单-{no}.xlsx").exists()
    over = CliRunner().invoke(app, ["form", str(book), no, "-o", str(book)])
    assert over.exit_code == 2 and "工作簿" in over.output
    other = CliRunner().invoke(app, ["form", str(book), no, "-o", str(tmp_path / "x.docx")])
    assert other.exit_code == 2 and ".xlsx" in other.output and not (tmp_path / "x.docx").exists()


def test_english_form(demo: Path, tmp_path: Path) -> None:
    c = _busiest(_read(demo).data)
    grid = _grid(form_flow(FileWorkbook(demo), [c.no or ""], tmp_path / "en.xlsx", now=NOW, lang="en").output)
    texts = _texts(grid)
    assert grid[0][0] == "北京朝阳店: Complaint handling form" and f"Complaint No.: {c.no}" in texts
    assert set(_stage_rows(grid, "en")) == set(v.STAGE.codes)
    assert {F.text(k, "en") for k in F.SIGNERS} <= set(texts)


# --- PDF ---------------------------------------------------------------------------------------


def test_without_libreoffice_a_pdf_asked_for_is_written_as_xlsx_and_said(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCOMPLAINTS_SOFFICE", "")  # as if not installed
    no = next(c.no for c in _read(demo).data.complaints if c.no) or ""
    done = CliRunner().invoke(app, ["form", str(demo), no, "-o", str(tmp_path / "f.pdf"), "--lang", "en"])
    assert done.exit_code == 1
    assert not (tmp_path / "f.pdf").exists() and (tmp_path / "f.xlsx").exists()
    assert "LibreOffice is not installed" in done.output and "f.xlsx" in done.output


def _pdf_pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info), info  # A4 portrait
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")
    assert len(text) - 1 == pages
    return text[:-1]


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE or shutil.which("pdfinfo") is None, reason="needs LibreOffice and poppler-utils")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_has_one_a4_page_per_complaint_with_the_signature_boxes(demo: Path, tmp_path: Path,
                                                                         lang: str) -> None:
    data = _read(demo).data
    numbers = [c.no or "" for c in data.complaints if c.no][:3]
    numbers[1] = _busiest(data).no or ""
    out = tmp_path / "forms.pdf"
    done = CliRunner().invoke(app, ["form", str(demo), *numbers, "-o", str(out), "--now", "2026-11-02 09:00",
                                    "--lang", lang])
    assert done.exit_code == 0, done.output
    pages = _pdf_pages(out)
    assert len(pages) == len(numbers)
    for no, page in zip(numbers, pages, strict=True):
        assert no in page and F.text("title", lang) in page
        for key in F.SIGNERS:  # nothing cut off at the foot of the page (a label may wrap in its box)
            assert all(word in page for word in F.text(key, lang).split()), key


# --- the button ----------------------------------------------------------------------------------


def _xlsm(demo: Path, tmp_path: Path) -> Path:
    """The demo's rows in the workbook with buttons."""
    grid = {kind: FileWorkbook(demo).values(sheet)[1:] for kind, sheet in _read(demo).sheets.items()
            if kind in ("register", "tracking", "callbacks")}
    out = tmp_path / "bj01.xlsm"
    build_branch_xlsm(out, rows=grid, settings=_read(demo).data.settings, created=None)
    return out


def test_print_form_button_prints_the_active_rows_complaint(demo: Path, tmp_path: Path) -> None:
    path = _xlsm(demo, tmp_path)
    read = _read(path)
    c = _busiest(read.data)
    book = FakeBook(path)
    book.selected = (read.sheets["register"], c.row or 0, 5)
    problems_before = sheet_cells(book, PROBLEMS.zh)
    outcome = entry.print_form(book, now=NOW)
    written = tmp_path / f"bj01-处理单-{c.no}.xlsx"
    assert outcome.ok and written.exists(), outcome.text()
    assert str(written) in outcome.zh and str(written) in outcome.en
    assert book.app.books.opened == [str(written)]  # on screen, to print
    assert sheet_cells(book, PROBLEMS.zh) == problems_before  # a form checks nothing: the list stays
    # the same form as the command makes from the file
    direct = form_flow(FileWorkbook(path), [c.no or ""], tmp_path / "direct.xlsx", now=NOW)
    assert _grid(written) == _grid(direct.output)


def test_print_form_button_says_what_to_do_first(demo: Path, tmp_path: Path) -> None:
    path = _xlsm(demo, tmp_path)
    read = _read(path)
    book = FakeBook(path)
    book.selected = (read.sheets["summary"], 3, 1)  # not on the Register
    outcome = entry.print_form(book, now=NOW)
    assert not outcome.ok and "点选要打印的投诉所在的行" in outcome.zh and "First click a cell" in outcome.en
    unnumbered = next(c for c in read.data.complaints if not c.no)
    book.selected = (read.sheets["register"], unnumbered.row or 0, 2)
    outcome = entry.print_form(book, now=NOW)
    assert not outcome.ok and "请先点“编号”" in outcome.zh
    assert not list(tmp_path.glob("*处理单*"))
    book._path = Path("Book1")  # never saved: nowhere to put the form
    book.selected = (read.sheets["register"], _busiest(read.data).row or 0, 2)
    outcome = entry.print_form(book, now=NOW)
    assert not outcome.ok and "请先保存" in outcome.zh and book.app.alerts[-1]["mode"] == "critical"


def test_the_python_api_writes_the_same_form(demo: Path, tmp_path: Path) -> None:
    import xlcomplaints as xc

    book = _copy(demo, tmp_path)
    no = _busiest(_read(book).data).no or ""
    result = xc.handling_form(book, [no], now=NOW)
    assert result.output == tmp_path / f"bj01-处理单-{no}.xlsx"
    assert _grid(result.output) == _grid(form_flow(FileWorkbook(demo), [no], tmp_path / "cli.xlsx", now=NOW).output)


def test_a_text_longer_than_a_row_goes_on_below_and_a_long_form_onto_a_second_page(tmp_path: Path) -> None:
    """Excel's rows stop at 409 points: the Register's 4,000 characters of complaint go on in the
    rows below, every character kept; a form that would shrink past reading goes on to a second page."""
    from xlcomplaints.form.workbook import MAX_ROW, lines, split_text
    from xlcomplaints.templates.build import build_branch_workbook

    long = "\n".join(f"第{i}段：客户反映楼上漏水，物业多次上门未能解决，墙面发霉。" for i in range(120))[:3990]
    register = [None] * len(B.REGISTER.columns)
    for key, value in {"no": "BJ01-2611001", "received_at": datetime(2026, 11, 1, 9), "channel": "电话",
                       "customer": "王先生", "category": "服务态度", "severity": "一般", "validity": "有效",
                       "content": long, "result": "x" * 3900}.items():
        register[[c.key for c in B.REGISTER.columns].index(key)] = value
    book = tmp_path / "long.xlsx"
    build_branch_workbook(book, rows={"register": [register]}, created=None)
    result = form_flow(FileWorkbook(book), ["BJ01-2611001"], tmp_path / "f.xlsx", now=NOW)
    ws = openpyxl.load_workbook(result.output).worksheets[0]
    assert max(d.height or 0 for d in ws.row_dimensions.values()) <= MAX_ROW
    column_b = [row[1] for row in ws.iter_rows(values_only=True) if isinstance(row[1], str)]
    at = next(i for i, text in enumerate(column_b) if text.startswith("第0段"))
    pieces = split_text(long, sum(F.WIDTHS[1:]))
    assert len(pieces) > 2 and "\n".join(column_b[at:at + len(pieces)]) == long
    assert "".join(split_text("x" * 3900, sum(F.WIDTHS[1:]))) == "x" * 3900
    assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1)  # 1 wide, pages as needed
    # words wrap whole: "Person / complained / about" is three lines in its label cell, not two
    assert lines("Person complained about", F.WIDTHS[4]) == 3

"""Consolidating many branch files: bad files go to Issues, duplicates count once, re-runs replace.

Branch files are real .xlsx files in tmp_path; the good ones hold the hand-made branch of
``test_metrics`` under different branch codes, so a consolidation's numbers are sums of
numbers already checked by hand.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import xlcomplaints as xc
from tests.conftest import HAS_SOFFICE, soffice_convert, type_rows
from tests.samples import write_branch
from tests.test_metrics import OCT, hand_branch
from xlcomplaints.api import new_workbook
from xlcomplaints.cli import app
from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.metrics import NOT_APPLICABLE, Case, stamp
from xlcomplaints.core.models import BranchData
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.problems import Level
from xlcomplaints.core.status import Escalation, OverallStatus, StageStatus
from xlcomplaints.report import consolidate as C
from xlcomplaints.report.facts import StoreError, load_facts, store_path
from xlcomplaints.report.history import read_report
from xlcomplaints.report.inputs import expand_inputs
from xlcomplaints.report.merging import merge
from xlcomplaints.report.run import (
    Contacts,
    NothingRead,
    ReportHooks,
    ReportKind,
    ReportRequest,
    RunResult,
    report_flow,
)
from xlcomplaints.report.summary import Branch, Cover, build
from xlcomplaints.spec import BRANCH_TEMPLATE_KIND, REPORT_TEMPLATE_KIND
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 11, 22, 9, 0)


def branch(code: str, drop: tuple[int, ...] = (), rename: dict[int, str] | None = None) -> BranchData:
    """The hand-made branch as branch ``code``, some complaints dropped (by index) or renumbered."""
    data = hand_branch(code, f"{code}店")
    kept = []
    for i, c in enumerate(data.complaints):
        if i in drop:
            continue
        if rename and i in rename:
            c = replace(c, no=rename[i])
        kept.append(c)
    return replace(data, complaints=tuple(kept))


def write(path: Path, data: BranchData, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_branch(path, data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def old_version(path: Path) -> Path:
    """A branch workbook whose template stamp says 0.9.0 (an old, unsupported major version)."""
    write_branch(path, branch("OLD"))
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                assert b"branch|1." in data
                data = data.replace(f"branch|{B.BRANCH_TEMPLATE_VERSION}|".encode(), b"branch|0.9.0|")
            z.writestr(item, data)
    path.write_bytes(out.getvalue())
    return path


def invalid_rows(path: Path) -> Path:
    """A real branch workbook where no row has a readable time received."""
    new_workbook(path, branch_code="BAD", branch_name="坏数据")
    type_rows(path, "register", [{"no": f"BAD-{i}", "received_at": "上周某天", "channel": "电话", "customer": "张",
                                  "category": "收费", "severity": "一般", "validity": "有效", "content": "x"}
                                 for i in range(5)])
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as head office receives it: two good branches, one sharing a number, and five bad files."""
    d = tmp_path_factory.mktemp("batch")
    write(d / "a1.xlsx", branch("A1"))
    write(d / "b1.xlsx", branch("B1", rename={0: "A1-001"}))  # B1's first complaint carries A1's number
    locked = write(d / "c1.xlsx", branch("C1"))
    (d / f"~${locked.name}").write_bytes(b"owner")  # open in Excel right now
    (d / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(300))
    (d / "encrypted.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64
                                       + "EncryptedPackage".encode("utf-16-le"))
    old_version(d / "old.xlsx")
    invalid_rows(d / "invalid.xlsx")
    (d / "notes.txt").write_text("not a workbook, not picked up")
    return d


@pytest.fixture(scope="module")
def run(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    seen: list[str] = []
    result = report_flow(ReportRequest([batch], OCT, tmp_path_factory.mktemp("out") / "group.xlsx", now=NOW),
                         ReportHooks(on_file=lambda f: seen.append(f.name)))  # the default process pool
    assert sorted(seen) == sorted(["a1.xlsx", "b1.xlsx", "c1.xlsx", "corrupt.xlsx", "encrypted.xlsx", "old.xlsx",
                                   "invalid.xlsx"])
    return result


@pytest.fixture(scope="module")
def python_run(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The same consolidation by the Python engine: the merged cases held here, for the tests of the merge
    itself (the report from the store equals it cell for cell: ``test_store_report``)."""
    return report_flow(ReportRequest([batch], OCT, tmp_path_factory.mktemp("out") / "group.xlsx", now=NOW),
                       ReportHooks(python_engine=True))


def file_issues(result: RunResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in result.report.issues:
        out.setdefault(p.file or "", []).append(p.code)
    return out


def test_bad_files_go_to_issues_and_the_batch_goes_on(run: RunResult) -> None:
    issues = file_issues(run)
    assert issues["corrupt.xlsx"] == ["file.corrupt"]
    assert issues["encrypted.xlsx"] == ["file.encrypted"]
    assert issues["old.xlsx"] == ["file.version_unsupported"]
    assert issues["invalid.xlsx"][0] == "report.no_usable_rows"  # and each unreadable cell after it
    assert issues["invalid.xlsx"].count("date.unreadable") == 5
    assert "report.open_in_excel" in issues["c1.xlsx"]  # read anyway, from its last save
    assert sorted(run.consolidation.branches) == ["A1", "B1", "C1"]
    assert run.report.files_read == 7 and run.report.files_failed == 4
    grid = python_calamine.CalamineWorkbook.from_path(str(run.output)).get_sheet_by_name("问题清单").to_python()
    rows = {(r[0], r[1]) for r in grid[1:]}
    assert {("corrupt.xlsx", "错误"), ("encrypted.xlsx", "错误"), ("old.xlsx", "错误"), ("invalid.xlsx", "错误"),
            ("c1.xlsx", "警告")} <= rows
    message = next(r[6] for r in grid[1:] if r[0] == "old.xlsx")
    assert "0.9.0" in message and "不受支持" in message


def test_duplicate_number_is_reported_and_counted_once(run: RunResult, python_run: RunResult) -> None:
    for result in (run, python_run):  # from the store (``store_report.duplicate_issues``) and by the merge
        dup = [p for p in result.report.issues if p.code == "report.duplicate_no"]
        assert len(dup) == 1 and dup[0].params["no"] == "A1-001" and dup[0].file == "b1.xlsx"
        assert dup[0].params["kept"] == "a1.xlsx"  # same progress: the branch that sorts first
    numbers = [c.no for c in python_run.consolidation.cases]
    assert numbers.count("A1-001") == 1 and len(numbers) == 27 - 1
    # Each hand-made branch received 6 complaints in October (C1 among them): 3 × 6 − 1.
    assert run.report.value("received") == 17 and run.report.value("closed") == 3 * 3 - 1


def test_branch_sheet_and_masked_contacts(run: RunResult) -> None:
    book = python_calamine.CalamineWorkbook.from_path(str(run.output))
    grid = book.get_sheet_by_name("按网点").to_python()
    assert sorted(r[1] for r in grid[1:-1]) == ["A1 A1店", "B1 B1店", "C1 C1店"]
    assert grid[-1][2] == 17
    overdue = book.get_sheet_by_name("超时明细").to_python()
    phones = {r[4] for r in overdue[1:]}
    assert phones and all("****" in p for p in phones)


def test_custom_executor_and_unreadable_file(batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any concurrent.futures executor will do; a file the OS refuses to read is an issue, not a crash."""
    real = C.FileWorkbook

    def refusing(path: Path) -> object:
        if Path(path).name == "a1.xlsx":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(C, "FileWorkbook", refusing)
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = report_flow(ReportRequest([batch / "a1.xlsx", batch / "c1.xlsx"], OCT, tmp_path / "g.xlsx", now=NOW),
                             ReportHooks(executor=pool))
    assert file_issues(result)["a1.xlsx"] == ["report.unreadable"]
    assert list(result.consolidation.branches) == ["C1"] and result.report.value("received") == 6


def test_python_api_consolidates_with_any_executor_or_its_own_pool(batch: Path, run: RunResult,
                                                                    tmp_path: Path) -> None:
    """``xlcomplaints.consolidate``: the month as typed, an executor of the caller's (left running), or a
    pool of ``workers`` that is gone again when the call returns; the same report either way."""
    seen: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        given = xc.consolidate([batch], "2026-10", tmp_path / "a.xlsx", now=NOW, executor=pool,
                               on_file=lambda f: seen.append(f.name))
        assert pool.submit(len, "still usable").result() == 12
    threads = threading.active_count()
    own = xc.consolidate([batch], OCT, tmp_path / "b.xlsx", now=NOW, workers=1)
    assert threading.active_count() == threads  # the pool and its manager thread are gone
    assert len(seen) == 7 and given.state is not None and given.state.exists()
    for result in (given, own):
        assert result.report.cover == run.report.cover and result.report.issues == run.report.issues
        assert list(result.consolidation.branches) == ["A1", "B1", "C1"]


def test_python_api_report_of_one_branch(batch: Path, tmp_path: Path) -> None:
    result = xc.monthly_report(batch / "a1.xlsx", "2026年10月", tmp_path / "a1-report.xlsx", now=NOW)
    assert result.state is None and result.output.exists() and result.report.value("received") == 6
    with pytest.raises(ValueError) as refused:  # a PeriodError, with its code
        xc.monthly_report(batch / "a1.xlsx", "October", tmp_path / "x.xlsx")
    assert getattr(refused.value, "code", None) == "period.unreadable"


def test_resent_branch_file_replaces_the_old_one(batch: Path, tmp_path: Path) -> None:
    """Two files of one branch in one batch: the one saved last is used, the other set aside."""
    old = write(tmp_path / "a1-old.xlsx", branch("A1", drop=(8,)), mtime=1_700_000_000)
    new = write(tmp_path / "a1-new.xlsx", branch("A1"), mtime=1_800_000_000)
    result = report_flow(ReportRequest([new, old], OCT, tmp_path / "g.xlsx", now=NOW))
    assert result.consolidation.branches["A1"].name == "a1-new.xlsx"
    assert [(p.code, p.file) for p in result.report.issues if p.code.startswith("report.")] == [
        ("report.superseded", "a1-old.xlsx")]
    assert result.report.value("received") == 6  # not 6 + 5


def test_a_register_per_month_the_months_one_is_used_whenever_saved(tmp_path: Path) -> None:
    """An office keeping a register per month sends September's (touched up later) and October's:
    October's is used for October, even though September's was saved last."""
    sep = write(tmp_path / "in" / "2026-09.xlsx", branch("A1", drop=(0, 2, 3, 5, 6, 8)), mtime=1_800_000_000)
    oct_ = write(tmp_path / "in" / "2026-10.xlsx", branch("A1"), mtime=1_700_000_000)
    result = report_flow(ReportRequest([tmp_path / "in"], OCT, tmp_path / "g.xlsx", now=NOW))
    assert result.consolidation.branches["A1"].name == oct_.name
    assert [(p.code, p.file) for p in result.report.issues if p.code.startswith("report.")] == [
        ("report.superseded_month", sep.name)]
    assert "2026-09.xlsx has no complaint received in 2026-10, so 2026-10.xlsx is used" in \
        result.report.issues[0].message("en")
    assert result.report.value("received") == 6
    sep_report = report_flow(ReportRequest([tmp_path / "in"], OCT.shift(-1), tmp_path / "s.xlsx", now=NOW))
    assert sep_report.consolidation.branches["A1"].name == sep.name  # both hold September: the last saved


def test_reports_in_the_branch_folder_are_passed_over(tmp_path: Path) -> None:
    """Writing the report into the folder it reads (and keeping last month's there): the next run
    does not read its own output, and another report is a warning, not a branch that failed."""
    write(tmp_path / "in" / "a1.xlsx", branch("A1"))
    out = tmp_path / "in" / "group.xlsx"
    first = report_flow(ReportRequest([tmp_path / "in"], OCT, out, now=NOW))
    (tmp_path / "in" / "last-month.xlsx").write_bytes(out.read_bytes())
    again = report_flow(ReportRequest([tmp_path / "in"], OCT, out, now=NOW))
    assert [f.name for f in again.consolidation.files] == ["a1.xlsx", "last-month.xlsx"]
    assert again.consolidation.unreadable == 0 and again.report.files_failed == 0
    skipped = [p for p in again.report.issues if p.file == "last-month.xlsx"]
    assert [(p.code, p.level) for p in skipped] == [("report.not_a_branch", Level.WARNING)]
    assert skipped[0].params == {"path": "last-month.xlsx"}
    assert again.report.cover == first.report.cover
    with pytest.raises(WorkbookError) as e:
        read_branch(FileWorkbook(out))
    assert e.value.code == "file.wrong_kind"
    assert {k: e.value.params[k] for k in ("path", "kind", "expected")} == {
        "path": "group.xlsx", "kind": REPORT_TEMPLATE_KIND, "expected": BRANCH_TEMPLATE_KIND}


def test_two_branches_left_with_one_code_are_told_so(tmp_path: Path) -> None:
    """Two offices that both kept the template's branch code: different names say they are two
    branches, so the message asks for a code to be corrected rather than calling one a re-send."""
    first = write(tmp_path / "bj.xlsx", hand_branch("BR01", "北京店"), mtime=1_700_000_000)
    second = write(tmp_path / "sh.xlsx", hand_branch("BR01", "上海店"), mtime=1_800_000_000)
    result = report_flow(ReportRequest([first, second], OCT, tmp_path / "g.xlsx", now=NOW))
    found = [p for p in result.report.issues if p.code.startswith("report.")]
    assert [(p.code, p.file, p.level) for p in found] == [("report.same_code", "bj.xlsx", Level.ERROR)]
    assert found[0].message("zh").startswith("bj.xlsx（北京店）与 sh.xlsx（上海店）的网点代码都是 BR01，但网点名称不同")


def test_update_replaces_one_branch_and_keeps_the_others(tmp_path: Path) -> None:
    a = write(tmp_path / "in" / "a1.xlsx", branch("A1"))
    b = write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest([a, b], OCT, out, now=NOW))
    assert first.report.value("received") == 12 and store_path(out).is_dir()

    # B1 corrects its October: C9 (B1-009) was entered by mistake. It sends only its own file.
    b2 = write(tmp_path / "resent" / "b1.xlsx", branch("B1", drop=(8,)))
    updated = report_flow(ReportRequest([b2], OCT, out, ReportKind.UPDATE, now=NOW))
    assert updated.consolidation.carried == ["A1"]
    assert "B1-009" not in {c.no for c in updated.consolidation.cases}
    assert updated.report.value("received") == 11

    # The same as consolidating the final set of files from scratch, number for number.
    fresh = report_flow(ReportRequest([a, b2], OCT, tmp_path / "fresh.xlsx", now=NOW))
    assert [(r.key, r.value, r.previous) for r in updated.report.cover] == [
        (r.key, r.value, r.previous) for r in fresh.report.cover]
    assert len(updated.report.overdue) == len(fresh.report.overdue)

    # Re-running the update changes nothing; nothing is duplicated.
    again = report_flow(ReportRequest([b2], OCT, out, ReportKind.UPDATE, now=NOW))
    assert [r.value for r in again.report.cover] == [r.value for r in updated.report.cover]
    summaries, as_of, shown = load_facts(store_path(out), OCT)
    assert sorted(f.branch for f in summaries) == ["A1", "B1"] and as_of == datetime(2026, 11, 1) and not shown
    assert sum(len(f.cases) for f in summaries) == 9 + 8

    # Updating as of another time: the kept branches were computed as of the earlier one, and the report says so.
    later = report_flow(ReportRequest([b2], OCT, out, ReportKind.UPDATE, now=NOW, as_of=datetime(2026, 10, 31, 12)))
    notes = [p for p in later.report.issues if p.code == "report.carried_as_of"]
    assert len(notes) == 1 and notes[0].params["branches"] == "A1"


def test_store_round_trip_keeps_every_fact(python_run: RunResult) -> None:
    summaries, _, _ = load_facts(store_path(python_run.output), OCT)
    again = {f.branch: f.cases for f in summaries}
    assert again == {code: f.cases for code, f in python_run.consolidation.branches.items()}


def test_the_facts_hold_the_engines_codes_as_enums_read_in_a_worker_or_from_the_store(python_run: RunResult) -> None:
    """The store keeps plain codes; what comes back from it, or from a worker process, is the enums."""
    summaries, _, _ = load_facts(store_path(python_run.output), OCT)
    for cases in ([c for f in summaries for c in f.cases], list(python_run.consolidation.cases)):
        assert cases
        for c in cases:
            assert type(c.status) is OverallStatus and type(c.escalation) is Escalation
            for name in STAGES:
                fact = c.stage(name)
                assert type(fact.status) is StageStatus and (fact.unit is None or type(fact.unit) is Unit)


def test_update_needs_the_store_of_the_same_month(run: RunResult, tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        load_facts(store_path(run.output), OCT.shift(1))
    with pytest.raises(StoreError):
        report_flow(ReportRequest([], OCT, tmp_path / "none.xlsx", ReportKind.UPDATE, now=NOW))


def test_nothing_readable(tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"garbage")
    with pytest.raises(NothingRead):
        report_flow(ReportRequest([tmp_path], OCT, tmp_path / "g.xlsx", now=NOW))


def test_cli_consolidate(batch: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "group.xlsx"
    result = runner.invoke(app, ["consolidate", str(batch), "--month", "2026-10", "-o", str(out), "--workers", "2",
                                 "--now", "2026-11-01 00:00"])
    assert result.exit_code == 0, result.output
    assert "3 个网点" in result.output and "4 个文件未能计入" in result.output and out.exists()
    result = runner.invoke(app, ["consolidate", str(batch / "corrupt.xlsx"), "--month", "2026-10",
                                 "-o", str(tmp_path / "none.xlsx")])
    assert result.exit_code == 2 and not (tmp_path / "none.xlsx").exists()
    result = runner.invoke(app, ["consolidate", str(batch / "a1.xlsx"), "--month", "2026-10",
                                 "-o", str(tmp_path / "elsewhere.xlsx"), "--update"])
    assert result.exit_code == 2


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("010-12345678", "010-****5678"), ("+86 138 1234 5678", "+86 1** **** 5678"),
    ("5551234", "*****34"), ("", ""), (None, None), ("138****5678", "138****5678"),
])
def test_mask_phone(phone: str | None, masked: str | None) -> None:
    assert C.mask_phone(phone) == masked


def test_expand_inputs_skips_lock_files_and_backups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workbooks, and spreadsheets of other formats (to be reported); each file once, however written."""
    for name in ("a.xlsx", "b.XLSM", "~$a.xlsx", ".~lock.a.xlsx#", "a.bak.xlsx", "c.csv", "e.xls", "f.ods",
                 "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.xlsx").write_bytes(b"x")
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.xlsx", "b.XLSM", "e.xls", "f.ods", "d.xlsx"]
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["a.xlsx", tmp_path / "a.xlsx", "sub/../a.xlsx"]) == [Path("a.xlsx")]


def test_spreadsheets_of_other_formats_in_a_folder_are_reported_not_skipped(tmp_path: Path) -> None:
    """A branch that sent .xls, .ods or .et is told to save it as .xlsx, by the file's label."""
    write(tmp_path / "in" / "a1.xlsx", branch("A1"))
    (tmp_path / "in" / "bj").mkdir()
    (tmp_path / "in" / "bj" / "a1.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (tmp_path / "in" / "gz.et").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with zipfile.ZipFile(tmp_path / "in" / "sh.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    result = report_flow(ReportRequest([tmp_path / "in"], OCT, tmp_path / "g.xlsx", now=NOW))
    issues = file_issues(result)
    assert {f: issues[f] for f in issues if f != "a1.xlsx"} == {
        "a1.xls": ["file.old_xls"], "gz.et": ["file.other_format"], "sh.ods": ["file.other_format"]}
    message = {p.file: p.message("en") for p in result.report.issues}
    assert message["a1.xls"].startswith("a1.xls is an old .xls file")
    assert "sh.ods is in the OpenDocument .ods format" in message["sh.ods"] and "WPS" in message["gz.et"]
    assert list(result.consolidation.branches) == ["A1"]


def test_a_file_with_nothing_received_in_the_month_is_pointed_out(tmp_path: Path) -> None:
    """Last month's file sent again, or a blank template: a warning says so (the branch still counts)."""
    write(tmp_path / "in" / "a1.xlsx", branch("A1"))
    new_workbook(tmp_path / "in" / "blank.xlsx", branch_code="Z9", branch_name="新店")
    latest = max(c.received_at for c in branch("A1").complaints if c.received_at is not None)
    dec = OCT.shift(2)
    result = report_flow(ReportRequest([tmp_path / "in"], dec, tmp_path / "g.xlsx", now=datetime(2027, 1, 5)))
    stale = {p.file: p for p in result.report.issues if p.code in ("report.none_in_month", "report.empty_register")}
    assert {f: p.code for f, p in stale.items()} == {"a1.xlsx": "report.none_in_month",
                                                     "blank.xlsx": "report.empty_register"}
    assert all(p.level is Level.WARNING for p in stale.values())
    assert stale["a1.xlsx"].params == {"path": "a1.xlsx", "branch": "A1", "month": "2026-12",
                                       "latest": f"{latest:%Y-%m-%d}"}
    assert stale["blank.xlsx"].params["branch"] == "Z9"
    assert list(result.consolidation.branches) == ["A1", "Z9"]
    october = report_flow(ReportRequest([tmp_path / "in" / "a1.xlsx"], OCT, tmp_path / "o.xlsx", now=NOW))
    assert not [p for p in october.report.issues if p.code == "report.none_in_month"]


def _case(branch: str, no: str | None, done: int) -> Case:
    """A complaint with its first ``done`` stages done (what decides which of two records is kept)."""
    stages: list[object] = []
    for i in range(len(STAGES)):
        stages += (StageStatus.DONE_ON_TIME, None, i + 1, None, None, None, None) if i < done else (*NOT_APPLICABLE, None)
    return Case(branch, no, None, *[None] * 9, False, Escalation.NONE, OverallStatus.OPEN, None, 0, tuple(stages), (), ())


def test_a_number_in_several_branches_keeps_the_record_that_got_furthest() -> None:
    a = C.FileSummary("a.xlsx", 1.0, "A", cases=(_case("A", "A-1", 2), _case("A", "X", 1), _case("A", "X", 3),
                                                  _case("A", None, 0)))
    b = C.FileSummary("b.xlsx", 1.0, "B", cases=(_case("B", "X", 2),))  # further than A's first X: replaces it
    c = C.FileSummary("c.xlsx", 1.0, "C", cases=(_case("C", "X", 2),))  # no further than B's: B's stays
    d = C.FileSummary("d.xlsx", 1.0, "D", cases=(_case("D", "Y", 0), _case("D", None, 1)))
    merged = merge([d, c, b, a], OCT, OCT.end)
    assert [(x.branch, x.no, x.done_count()) for x in merged.cases] == [
        ("A", "A-1", 2), ("B", "X", 2), ("A", "X", 3), ("A", None, 0), ("D", "Y", 0), ("D", None, 1)]
    dup = [(p.file, p.params["other"], p.params["kept"]) for p in merged.issues if p.code == "report.duplicate_no"]
    assert dup == [("b.xlsx", "a.xlsx", "b.xlsx"), ("c.xlsx", "b.xlsx", "b.xlsx")]


def test_report_that_cannot_be_written_leaves_the_previous_store(run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "g.xlsx"
    out.mkdir()  # the report's path is taken by a folder: the report cannot be written
    store_path(out).mkdir()
    (store_path(out) / "manifest.json").write_bytes(b"the previous run's")
    with pytest.raises(WorkbookError):
        report_flow(ReportRequest([f.path for f in run.consolidation.files], OCT, out, now=NOW))
    assert [p.name for p in store_path(out).iterdir()] == ["manifest.json"]  # no partition of the failed run
    assert (store_path(out) / "manifest.json").read_bytes() == b"the previous run's"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, store_path(out).name])


def _with_words(code: str) -> BranchData:
    """The hand-made branch whose major complaint (C3) has its story written up, a phone number in it."""
    data = branch(code)
    words = {"content": "业主来电 13912345678 反映物业费多收", "result": "已退还多收费用",
             "root_cause": "收费系统单价未更新", "corrective_action": "每月核对收费单价"}
    return replace(data, complaints=tuple(replace(c, **words) if c.no == f"{code}-003" else c
                                          for c in data.complaints))


def test_typical_cases_sheet_with_words_masked_and_kept_by_update(tmp_path: Path) -> None:
    a, b = write(tmp_path / "in" / "a1.xlsx", _with_words("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    out = tmp_path / "g.xlsx"
    report_flow(ReportRequest([a, b], OCT, out, now=NOW))
    grid = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("典型案例").to_python()
    assert grid[0][:6] == ["网点", "投诉编号", "受理时间", "投诉类别", "严重程度", "典型原因"]
    # B1's customers are A1's (the same hand-made register): B1's complaints repeat A1's, across branches.
    assert [(r[0], r[1], r[5]) for r in grid[1:4]] == [("B1", "B1-003", "重大投诉、投诉升级、重复投诉、超时"),
                                                      ("A1", "A1-003", "重大投诉、投诉升级、超时"),
                                                      ("B1", "B1-009", "重新处理、重复投诉、超时")]
    assert grid[2][8:] == ["业主来电 139****5678 反映物业费多收", "已退还多收费用", "收费系统单价未更新", "每月核对收费单价"]
    assert len(grid) == 1 + 10  # five per branch (see test_metrics), all within the twenty shown

    # B1 sends its file again; A1's words come from the facts store, still masked.
    rerun = report_flow(ReportRequest([write(tmp_path / "again" / "b1.xlsx", branch("B1"))], OCT, out,
                                      ReportKind.UPDATE, now=NOW))
    assert rerun.consolidation.carried == ["A1"]
    again = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("典型案例").to_python()
    assert again == grid

    shown = report_flow(ReportRequest([a], OCT, tmp_path / "shown.xlsx", now=NOW, contacts=Contacts.SHOWN))
    assert [r.texts[0] for r in shown.report.typical if r.case.no == "A1-003"] == ["业主来电 13912345678 反映物业费多收"]


def _customer_case(branch: str, no: str, received: datetime, customer: str | None, phone: str | None,
                   category: str = "billing", repeat_of: str | None = None, validity: str = "valid") -> Case:
    return _case(branch, no, 1)._replace(received_at=stamp(received), customer=customer, phone=phone,
                                         category=category, repeat_of=repeat_of, validity=validity)


def test_repeats_across_branches() -> None:
    """The same customer about the same category at another branch within 30 days repeats the earlier complaint."""
    a = C.FileSummary("a.xlsx", 1.0, "A", cases=(
        _customer_case("A", "A-1", datetime(2026, 10, 1, 9), "张三", "138****5678"),
        _customer_case("A", "A-2", datetime(2026, 10, 2, 9), "李四", "13900001111"),
        _customer_case("A", "A-3", datetime(2026, 10, 3, 9), "王五", None),
        _customer_case("A", "A-4", datetime(2026, 10, 4, 9), "赵六", "137****0000", validity="invalid")))
    b = C.FileSummary("b.xlsx", 1.0, "B", cases=(
        _customer_case("B", "B-1", datetime(2026, 10, 20, 9), "张三", "138****5678"),  # 19 days after A-1
        _customer_case("B", "B-2", datetime(2026, 10, 9, 9), "李四（先生）", "139-0000-1111"),  # full numbers match
        _customer_case("B", "B-3", datetime(2026, 10, 3, 18), "王五", None, category="delay"),  # another matter
        _customer_case("B", "B-4", datetime(2026, 10, 5, 9), "钱七", "138****5678"),  # masked alike, another name
        _customer_case("B", "B-5", datetime(2026, 10, 6, 9), "赵六", "137****0000"),  # A-4 was invalid
        _customer_case("B", "B-6", datetime(2026, 12, 1, 9), "李四", "13900001111"),  # 53 days after B-2
        _customer_case("B", "B-7", datetime(2026, 10, 10, 9), "王五", None, repeat_of="B-0")))  # its own branch's
    merged = merge([a, b], OCT, OCT.end)
    assert {c.no: c.repeat_of for c in merged.cases if c.repeat_of} == {"B-1": "A-1", "B-2": "A-2", "B-7": "B-0"}


def test_repeats_across_branches_use_the_later_branchs_window(tmp_path: Path) -> None:
    """A branch that judges repeats over 60 days judges its complaints so across branches too; one on
    the default 30 days does not. The window comes from each file's Settings and survives the facts store."""
    a = C.FileSummary("a.xlsx", 1.0, "A", cases=(
        _customer_case("A", "A-1", datetime(2026, 9, 1, 9), "张三", "13800001111"),))
    later = {"B": 60, "C": 30}
    summaries = [C.FileSummary(f"{code.lower()}.xlsx", 1.0, code, repeat_window_days=days, cases=(
        _customer_case(code, f"{code}-1", datetime(2026, 10, 16, 9), "张三", "13800001111"),))  # 45 days later
        for code, days in later.items()]
    found = [{c.no: c.repeat_of for c in merge([a, s], OCT, OCT.end).cases if c.repeat_of} for s in summaries]
    assert found == [{"B-1": "A-1"}, {}]

    data = branch("W")
    data = replace(data, settings=data.settings.model_copy(update={"repeat_window_days": 45}))
    out = tmp_path / "g.xlsx"
    result = report_flow(ReportRequest([write(tmp_path / "w.xlsx", data), write(tmp_path / "a1.xlsx", branch("A1"))],
                                       OCT, out, now=NOW))
    assert {code: f.repeat_window_days for code, f in result.consolidation.branches.items()} == {"W": 45, "A1": 30}
    stored, _, _ = load_facts(store_path(out), OCT)
    assert {f.branch: f.repeat_window_days for f in stored} == {"W": 45, "A1": 30}


def test_a_consolidated_report_reads_back_as_last_month(run: RunResult) -> None:
    """Next month's report, lacking this month in its inputs, takes every breakdown's counts (by
    branch too: "A1 A1店" is branch A1) and the backlog's ages from this report."""
    _, cover = read_report(run.output)
    assert set(cover.breakdowns) == set(run.report.breakdowns)
    for dim, rows in run.report.breakdowns.items():
        if dim != "branch":
            assert cover.breakdowns[dim] == {g.key: g.count for g in rows}, dim
    assert cover.breakdowns["branch"] == {f"{g.key} {g.key}店": g.count for g in run.report.breakdowns["branch"]}
    assert cover.backlog_ages == run.report.backlog_ages[0]
    nov = build([], OCT.shift(1), datetime(2026, 12, 1), branches=[Branch("A1", "A1店", "a1.xlsx")],
                previous_cover=cover)
    assert {g.key: g.previous for g in nov.breakdowns["branch"]} == {
        g.key: g.count for g in run.report.breakdowns["branch"]}


def test_an_earlier_reports_branch_labels_resolve_to_codes_with_spaces() -> None:
    """A branch label is its code and its name; a code may itself hold a space."""
    counts = {"BJ 01 北京一店": 5, "BJ 01": 1, "SH02 上海店": 3, "GZ 03 广州店": 2}
    branches = [Branch(code, "", f"{code}.xlsx") for code in ("BJ 01", "BJ", "SH02")]
    nov = build([], OCT.shift(1), datetime(2026, 12, 1), branches=branches,
                previous_cover=Cover("oct.xlsx", {}, {}, breakdowns={"branch": counts}))
    # BJ, given with no complaint either month, is a row of zeros (零报)
    assert {g.key: g.previous for g in nov.breakdowns["branch"]} == {"BJ 01": 6, "SH02": 3, "GZ": 2, "BJ": 0}


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not on PATH")
def test_a_branch_resaved_by_libreoffice_reads_the_same(tmp_path: Path) -> None:
    """A branch that keeps its register in LibreOffice (or re-saves it there) sends a file LibreOffice
    wrote: its stamps, layout and cells must read back to the very same facts and problems."""
    data = _with_words("LO")
    original = write(tmp_path / "lo.xlsx", replace(data, complaints=(
        *data.complaints, replace(data.complaints[0], no=None, received_at=None))))
    resaved = soffice_convert(original, tmp_path / "resaved")
    month, as_of = OCT, datetime(2026, 11, 1)
    ours, theirs = (C.read_file(str(p), month, as_of, NOW) for p in (original, resaved))
    assert ours.error is None and theirs.error is None
    assert ours.problems and [p.code for p in ours.problems] == [p.code for p in theirs.problems]
    assert [p.cell for p in ours.problems] == [p.cell for p in theirs.problems]
    assert len(ours.cases) == len(data.complaints) + 1
    assert theirs.cases == ours.cases and theirs.texts == ours.texts and theirs.texts
    assert (theirs.branch, theirs.branch_name) == (ours.branch, ours.branch_name) == ("LO", "LO店")


@pytest.mark.parametrize(("paths", "labels"), [
    (["in/a1.xlsx", "in/b1.xlsx"], ["a1.xlsx", "b1.xlsx"]),
    (["in/north/2026-10.xlsx", "in/south/2026-10.xlsx", "in/x.xlsx"],
     ["north/2026-10.xlsx", "south/2026-10.xlsx", "x.xlsx"]),
    (["a/north/bj/10.xlsx", "b/north/bj/10.xlsx", "c/south/10.xlsx"],
     ["a/north/bj/10.xlsx", "b/north/bj/10.xlsx", "south/10.xlsx"]),
    (["10.xlsx", "sub/10.xlsx"], ["10.xlsx", "sub/10.xlsx"]),
    (["/in/x/10.xlsx", "/in/x/10.xlsx", "/in/y/10.xlsx"], ["x/10.xlsx", "x/10.xlsx", "y/10.xlsx"]),
    (["/a/10.xlsx", "a/10.xlsx"], ["/a/10.xlsx", "a/10.xlsx"]),
])
def test_file_labels_tell_files_of_the_same_name_apart(paths: list[str], labels: list[str]) -> None:
    found = C.file_labels([Path(p) for p in paths])
    assert [found[Path(p)] for p in paths] == labels


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "north", "2026-10.xlsx", "bj01.xlsx"]), min_size=1, max_size=4)
                .map(lambda parts: PurePosixPath(*parts)), max_size=12))
def test_file_labels_are_distinct_tails_of_their_paths(paths: list[PurePosixPath]) -> None:
    labels = C.file_labels(paths)  # type: ignore[arg-type]
    assert set(labels) == set(paths) and len(set(labels.values())) == len(set(paths))
    for path, label in labels.items():
        assert path.parts[-len(PurePosixPath(label).parts):] == PurePosixPath(label).parts
        shorter = PurePosixPath(*path.parts[-len(PurePosixPath(label).parts) + 1:]) if "/" in label else None
        # no shorter tail would do: another file shares it
        assert shorter is None or any(o != path and o.parts[-len(shorter.parts):] == shorter.parts for o in paths)


def test_branches_sending_files_of_the_same_name_are_told_apart(tmp_path: Path) -> None:
    """Head office keeps a folder per branch, each holding that month's ``2026-10.xlsx``: every issue,
    duplicate and set-aside file is named with the folder that tells it apart, in --update runs too."""
    write(tmp_path / "in" / "north" / "2026-10.xlsx", _with_words("N1"))
    south = write(tmp_path / "in" / "south" / "2026-10.xlsx", branch("S1", rename={0: "N1-001"}))
    (tmp_path / "in" / "east").mkdir()
    invalid_rows(tmp_path / "in" / "east" / "2026-10.xlsx")
    out = tmp_path / "g.xlsx"
    first = report_flow(ReportRequest([tmp_path / "in"], OCT, out, now=NOW))
    assert {f.name for f in first.consolidation.files} == {
        "north/2026-10.xlsx", "south/2026-10.xlsx", "east/2026-10.xlsx"}
    dup = next(p for p in first.report.issues if p.code == "report.duplicate_no")
    assert dup.file == "south/2026-10.xlsx" and dup.params["other"] == "north/2026-10.xlsx"
    assert file_issues(first)["east/2026-10.xlsx"][0] == "report.no_usable_rows"
    grid = python_calamine.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("问题清单").to_python()
    assert {row[0] for row in grid[1:]} == set(file_issues(first)) >= {"south/2026-10.xlsx", "east/2026-10.xlsx"}
    assert all(row[0].endswith("/2026-10.xlsx") for row in grid[1:])
    again = report_flow(ReportRequest([south], OCT, out, ReportKind.UPDATE,
                                      now=NOW))  # north is carried from the facts store
    assert again.consolidation.carried == ["N1"]
    assert again.consolidation.branches["N1"].name == "north/2026-10.xlsx"
    dup = next(p for p in again.report.issues if p.code == "report.duplicate_no")
    assert dup.file == "south/2026-10.xlsx" and dup.params["other"] == "north/2026-10.xlsx"


@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write(tmp_path_factory.mktemp("good") / "a1.xlsx", _with_words("A1")).read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.sampled_from(["cut", "flip", "blank"]), where=st.floats(0, 1), size=st.integers(1, 4000),
       bits=st.lists(st.integers(0, 7), min_size=1, max_size=20))
def test_a_damaged_workbook_is_one_located_reason_never_a_crash(good_file: bytes, tmp_path: Path, damage: str,
                                                                where: float, size: int, bits: list[int]) -> None:
    """Files cut short by a mail server or a bad disk: the worker names what is wrong (damaged, not a
    workbook, ...) or reads what is intact, and never fails with an error nobody foresaw."""
    data = bytearray(good_file)
    at = min(int(where * len(data)), len(data) - 1)
    if damage == "cut":
        data = data[:at]
    elif damage == "flip":
        for i, bit in enumerate(bits):
            data[(at + i * 997) % len(data)] ^= 1 << bit
    else:
        data[at:at + size] = bytes(len(data[at:at + size]))
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    summary = C.read_file(str(path), OCT, datetime(2026, 11, 1), NOW)
    if summary.error is not None:
        # a flipped byte in a part's declared size reads as a part past the limits (a zip bomb's sign):
        # refused as such, located to the part (workbook/limits.py)
        assert summary.error.code in {"file.corrupt", "file.not_workbook", "file.not_ours", "file.sheet_missing",
                                      "file.changed", "limits.part"}, summary.error
        assert summary.error.message("zh") and summary.error.file == "damaged.xlsx"
    else:
        assert summary.branch == "A1" and summary.cases


def test_branches_without_a_code_of_their_own_are_told_apart_by_file(tmp_path: Path) -> None:
    """Two offices that left 网点代码 blank are not one branch 'BR01' (the default) of which only the
    file saved last counts: each is named by its file, and each blank code is on the Issues sheet."""
    import openpyxl

    for name in ("east", "west"):
        path = write(tmp_path / f"{name}.xlsx", hand_branch(name.upper()))
        wb = openpyxl.load_workbook(path)
        assert wb["设置"]["A2"].value == "网点代码"
        wb["设置"]["B2"] = None
        wb.save(path)
    result = report_flow(ReportRequest([tmp_path], OCT, tmp_path / "group.xlsx", now=datetime(2026, 11, 2, 9)))
    assert sorted(result.consolidation.branches) == ["east", "west"]
    assert sorted((p.file, p.code) for p in result.report.issues if p.code.startswith("setting.")) == [
        ("east.xlsx", "setting.branch_code_blank"), ("west.xlsx", "setting.branch_code_blank")]



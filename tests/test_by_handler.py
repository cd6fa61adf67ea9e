"""The By-handler sheet (按处理人) checked against a hand count, on a small real workbook; and 零报.

BJ01 holds four complaints of October 2026 (default policy, after the National Day holiday), with
the figures below counted by hand from the Definitions' words:

- 001, received Mon 12 Oct 10:00, Register handler 张三; Tracking: 分派 10:10 经办人 张三, 转派 13 Oct
  09:00 经办人 李四, 处理完成 14 Oct 15:00 经办人 李四; everything done on time, closed 15 Oct, callback
  satisfied (9). Its acknowledgement (10:30) and first contact (11:00) were before the transfer: they
  are 张三's; its resolve, reply, callback and close are 李四's, and so is the complaint.
- 002, received Tue 13 Oct 10:00, Register handler 李四, no Tracking: acknowledged on time, first
  contact late (15:00, due 12:00), never resolved: resolve (due 16 Oct), reply (19 Oct) and close
  (22 Oct) missed and still overdue at the as-of time (1 Nov 00:00); the callback has no clock yet.
- 003, invalid (无效), Register handler 王五: in no figure.
- 004, received Tue 20 Oct 10:00, Register handler blank; Tracking: 分派 10:05 经办人 王五 (the only
  name), resolved 21 Oct, a "not satisfied" callback on 22 Oct 10:00 reopens it, resolved again
  23 Oct 10:00, replied 23 Oct 11:00, called back satisfied (8) on 26 Oct, closed 26 Oct 11:00.
  Reopened, its resolve, reply and callback clocks restart on 22 Oct and are met; its close is due
  on 2 Nov (7 working days from 22 Oct), outside October.

So: 张三 2 deadlines met (handles no complaint); 李四 handles 001 and 002, 5 deadlines met of 9
(001's resolve, reply, callback, close; 002's acknowledgement), one complaint overdue now; 王五 handles
004, 5 of 5, reopened once. With 考核排名最少件数 = 2 only 李四 is ranked.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

import xlcomplaints as xc
from tests.samples import write_branch
from tests.test_adopt import VALIDATOR
from xlcomplaints.core.models import BranchData, CallbackAttempt, Complaint, Settings, TrackingStep

HEADERS = {"处理人": "handler", "需处理件数": "handled", "结案件数": "closed", "未结案件数": "open",
           "处理及时率": "on_time_rate",
           "受理通知及时率": "ack", "首次联系及时率": "first_contact", "调查处理及时率": "resolve",
           "答复客户及时率": "reply", "回访及时率": "callback", "结案及时率": "close", "当前逾期件数": "overdue_now",
           "满意率": "satisfaction", "平均评分": "score", "重开件数": "reopened", "重复投诉件数": "repeats"}


def d(text: str) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M")


def bj01() -> BranchData:
    base = {"channel": "phone", "customer": "客户", "category": "quality", "severity": "general",
            "validity": "valid", "complexity": "simple", "content": "内容"}
    return BranchData(
        settings=Settings(branch_code="BJ01", branch_name="北京一店", rank_min_complaints=2),
        complaints=(
            Complaint(no="BJ01-001", received_at=d("10-12 10:00"), handler="张三", department="客服部",
                      acknowledged_at=d("10-12 10:30"), first_contact_at=d("10-12 11:00"),
                      resolved_at=d("10-14 15:00"), replied_at=d("10-14 16:00"), callback_at=d("10-15 10:00"),
                      closed_at=d("10-15 11:00"), phone="13800000001", **base),
            Complaint(no="BJ01-002", received_at=d("10-13 10:00"), handler="李四", department="客服部",
                      acknowledged_at=d("10-13 10:30"), first_contact_at=d("10-13 15:00"),
                      phone="13800000002", **base),
            Complaint(no="BJ01-003", received_at=d("10-14 09:30"), handler="王五", department="工程部",
                      phone="13800000003", **{**base, "validity": "invalid"}),
            Complaint(no="BJ01-004", received_at=d("10-20 10:00"), department="工程部",
                      acknowledged_at=d("10-20 11:00"), first_contact_at=d("10-20 11:30"),
                      phone="13800000004", **base),
        ),
        tracking=(
            TrackingStep(no="BJ01-001", at=d("10-12 10:10"), step="assigned", handler="张三"),
            TrackingStep(no="BJ01-001", at=d("10-13 09:00"), step="transferred", handler="李四"),
            TrackingStep(no="BJ01-001", at=d("10-14 15:00"), step="resolved", handler="李四"),
            TrackingStep(no="BJ01-004", at=d("10-20 10:05"), step="assigned", handler="王五"),
            TrackingStep(no="BJ01-004", at=d("10-21 10:00"), step="resolved"),
            TrackingStep(no="BJ01-004", at=d("10-23 10:00"), step="resolved"),
            TrackingStep(no="BJ01-004", at=d("10-23 11:00"), step="replied"),
            TrackingStep(no="BJ01-004", at=d("10-26 11:00"), step="closed"),
        ),
        callbacks=(
            CallbackAttempt(no="BJ01-001", at=d("10-15 10:00"), method="phone", caller="回访员", outcome="satisfied",
                            score=9),
            CallbackAttempt(no="BJ01-004", at=d("10-22 10:00"), method="phone", caller="回访员",
                            outcome="unsatisfied", score=4),
            CallbackAttempt(no="BJ01-004", at=d("10-26 10:00"), method="phone", caller="回访员", outcome="satisfied",
                            score=8),
        ),
    )


def _sheet(path: Path) -> tuple[dict[str, dict[str, object]], list[list[object]]]:
    """The By-handler table by handler and column (as the headers name them), and the rows below it."""
    rows = [list(r) for r in openpyxl.load_workbook(path, data_only=True)["按处理人"].iter_rows(values_only=True)]
    keys = [HEADERS.get(str(h).split("（")[0]) for h in rows[0]]
    table: dict[str, dict[str, object]] = {}
    end = next(i for i, r in enumerate(rows) if r[0] is None)
    for r in rows[1:end]:
        table[str(r[0])] = {k: v for k, v in zip(keys, r, strict=True) if k}
    return table, rows[end:]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("by-handler")
    write_branch(folder / "BJ01.xlsx", bj01())
    write_branch(folder / "SH02.xlsx", BranchData(settings=Settings(
        branch_code="SH02", branch_name="上海店", rank_min_complaints=2)))  # a group takes the largest of its branches'
    out = folder / "group-2026-10.xlsx"
    xc.consolidate([folder / "BJ01.xlsx", folder / "SH02.xlsx"], "2026-10", out, workers=1)
    return out


def test_by_handler_agrees_with_a_hand_count(report: Path) -> None:
    table, _ = _sheet(report)
    assert set(table) == {"张三", "李四", "王五"}  # 003 is invalid: its handler 王五 is here for 004 only
    zhang, li, wang = table["张三"], table["李四"], table["王五"]
    assert (zhang["handled"], zhang["closed"], zhang["on_time_rate"], zhang["ack"], zhang["first_contact"]) == (
        0, 0, 1.0, 1.0, 1.0)
    assert zhang["resolve"] is None and zhang["satisfaction"] is None  # nothing of his to count: blank
    assert (li["handled"], li["closed"], li["open"], li["overdue_now"]) == (2, 1, 1, 1)
    assert li["on_time_rate"] == pytest.approx(5 / 9)
    assert (li["ack"], li["first_contact"], li["resolve"], li["reply"], li["callback"], li["close"]) == (
        1.0, 0.0, 0.5, 0.5, 1.0, 0.5)
    assert (li["satisfaction"], li["score"], li["reopened"]) == (1.0, 9, 0)
    assert (wang["handled"], wang["closed"], wang["open"], wang["on_time_rate"], wang["overdue_now"]) == (
        1, 1, 0, 1.0, 0)
    assert (wang["satisfaction"], wang["score"], wang["reopened"], wang["repeats"]) == (1.0, 8, 1, 0)


def test_the_ranking_takes_only_handlers_with_the_settings_least_count(report: Path) -> None:
    """考核排名最少件数 = 2 (both branches' Settings): 李四 alone has two complaints to handle."""
    _, below = _sheet(report)
    assert any(isinstance(r[0], str) and "不少于 2 件" in r[0] for r in below)
    header = next(i for i, r in enumerate(below) if r[0] == "最高")
    assert below[header + 1][:3] == ["李四", pytest.approx(5 / 9), 2]
    assert below[header + 1][4] == "（无）"  # nobody else to be least on time


def test_a_branch_with_no_complaint_is_a_row_of_zeros(report: Path) -> None:
    """零报: SH02 sent a workbook with nothing in October; the By-branch sheet has its row, all zeros."""
    ws = openpyxl.load_workbook(report, data_only=True)["按网点"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[1]}
    assert "SH02 上海店" in rows
    _, _, count, _, previous, _, on_time, overdue = rows["SH02 上海店"][:8]
    assert (count, previous, overdue) == (0, 0, 0) and on_time in (None, "—")
    assert rows["BJ01 北京一店"][2] == 4


def test_the_independent_auditor_agrees_on_this_workbook(report: Path) -> None:
    """The auditor (``tests/audit/people.py``, from the Definitions' words) on these two branches: every
    By-handler and By-department column, and the ranking — here handlers change hands on Tracking."""
    from tests.audit.figures import all_figures, months
    from tests.audit.people import people_figures
    from tests.audit.report import read_report

    shown = read_report(report)
    mine, this, _ = all_figures([report.parent / "BJ01.xlsx", report.parent / "SH02.xlsx"], months(2026, 10))
    order = shown["sheet-order:handler"]
    assert isinstance(order, list)
    departments = {f.split(":")[2] for f in mine if f.startswith("breakdown:department:")} - {"total"}
    mine.update(people_figures(this, order, departments))
    ids = {f for f in (*mine, *shown) if f.startswith(("handler:", "department-people:", "ranking:"))}
    assert len(ids) > 40
    def agrees(a: object, b: object) -> bool:  # times are written to 4 decimals
        if isinstance(a, int | float) and isinstance(b, int | float):
            return abs(a - b) < 1e-4
        return a == b

    assert {f: (shown.get(f), mine.get(f)) for f in ids if not agrees(shown.get(f), mine.get(f))} == {}


@pytest.mark.skipif(not VALIDATOR.exists(), reason="the OOXML validator is not beside the repo")
def test_refresh_writes_the_table_per_handler_beside_the_summary(tmp_path: Path) -> None:
    """刷新 (as of 31 Oct 18:00) writes the same figures for October so far from column E of 汇总, rates in %,
    under a title and a header; the Summary's own lines stay in A–C; the file passes the OOXML checker;
    the template gives the workload columns (open, overdue now) a data bar."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    xc.refresh(path, now=datetime(2026, 10, 31, 18, 0))
    rows = [list(r) for r in openpyxl.load_workbook(path, data_only=True)["汇总"].iter_rows(values_only=True)]
    assert rows[0][:3] == ["指标", "数值", "说明"] and rows[1][0] == "刷新时间"
    assert rows[1][4] == "按处理人：2026年10月（截至刷新时间）"
    header = rows[2][4:]
    at = {h.split("（")[0]: i for i, h in enumerate(header) if h}
    table = {r[4]: r[4:] for r in rows[3:] if len(r) > 4 and r[4]}
    assert set(table) == {"张三", "李四", "王五"}
    li, wang = table["李四"], table["王五"]
    assert (li[at["未结案件数"]], li[at["当前逾期件数"]], li[at["需处理件数"]], li[at["结案件数"]]) == (1, 1, 2, 1)
    assert li[at["处理及时率(%)"]] == 55.6 and li[at["首次联系及时率(%)"]] == 0
    assert (wang[at["未结案件数"]], wang[at["重开件数"]], wang[at["平均评分"]]) == (0, 1, 8)
    assert table["张三"][at["需处理件数"]] == 0 and table["张三"][at["受理通知及时率(%)"]] == 100
    check = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-2000:]
    with zipfile.ZipFile(path) as z:
        summary = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet") and "汇总" in _title(z, n))
        assert b"dataBar" in z.read(summary)
    xc.refresh(path, now=datetime(2026, 10, 31, 18, 0))  # the same time again: nothing changes
    assert [list(r) for r in openpyxl.load_workbook(path, data_only=True)["汇总"].iter_rows(values_only=True)] == rows


def _title(z: zipfile.ZipFile, part: str) -> str:
    """The title of the sheet stored in ``part`` (workbook.xml and its relationships)."""
    import re

    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = next(m.group(1) for m in re.finditer(r'<Relationship [^>]*Id="([^"]+)"[^>]*Target="/?(?:xl/)?([^"]+)"', rels)
               if part.endswith(m.group(2)))
    return next(m.group(1) for m in re.finditer(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"',
                                                z.read("xl/workbook.xml").decode()) if m.group(2) == rid)


def test_a_phone_number_typed_with_a_handlers_name_is_masked_in_a_consolidation(tmp_path: Path) -> None:
    """What leaves a branch has its phone numbers masked wherever they were typed: a handler's too."""
    data = bj01()
    data = replace(data, tracking=tuple(
        replace(s, handler="李四 13912345678") if s.handler == "李四" else s for s in data.tracking))
    path = write_branch(tmp_path / "BJ01.xlsx", data)
    out = tmp_path / "group.xlsx"
    xc.consolidate([path], "2026-10", out, workers=1)
    names = [r[0] for r in openpyxl.load_workbook(out, data_only=True)["按处理人"].iter_rows(min_row=2, values_only=True)
             if r[0]]
    assert "李四 139****5678" in names and not any("13912345678" in str(n) for n in names)

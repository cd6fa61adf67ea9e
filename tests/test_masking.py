"""Phone numbers never leave a branch unmasked without --show-contacts: not in the report (any
sheet, the Issues sheet too), not in the facts store; wherever the clerk typed them."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xlcomplaints.core.metrics import Period
from xlcomplaints.report.facts import load_facts
from xlcomplaints.report.masking import mask_text
from xlcomplaints.report.run import Contacts, ReportKind, ReportRequest, RunResult, report_flow

OCT = Period.month(2026, 10)
NOW = datetime(2026, 11, 2, 9, 0)
#: Each typed where a clerk might: an invalid phone value (two numbers in a cell, the demo's
#: 138-1234-567), a number in the customer's name, one in the complaint's text.
SECRETS = ("13700002222", "13700003333", "138-1234-567", "13700001111", "13912345678")


def _row(received: str, customer: str, phone: str, content: str) -> dict[str, object]:
    return {"received_at": received, "channel": "电话", "customer": customer, "phone": phone,
            "category": "服务态度", "severity": "严重", "validity": "有效", "content": content}


@pytest.fixture
def leaky(branch: Callable[..., Path]) -> Path:
    return branch(register=[
        _row("2026-10-03 10:00", "张三", "13700002222/13700003333", "柜台态度差"),
        _row("2026-10-04 10:00", "李四", "138-1234-567", "等候太久"),
        _row("2026-10-05 10:00", "王先生13700001111", "13800138000", "客户说回电13912345678，要求主管处理"),
    ])


def text_of(path: Path) -> str:
    """Every part of a workbook (or every file of a facts store, its Parquet tables read) as text, to search
    for what leaked."""
    if path.is_dir():
        return "".join(str(pq.read_table(f).to_pylist()) if f.suffix == ".parquet" else f.read_text()
                       for f in sorted(path.rglob("*")) if f.is_file())
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def leaked(*paths: Path) -> list[str]:
    found = "".join(text_of(p) for p in paths)
    return [s for s in SECRETS if s in found]


def test_consolidated_report_and_store_hold_no_full_number(leaky: Path, tmp_path: Path) -> None:
    result = report_flow(ReportRequest([leaky], OCT, tmp_path / "group.xlsx", now=NOW, as_of=NOW))
    assert result.state is not None
    assert any(p.code.startswith("phone.") for p in result.consolidation.issues)  # the values are on Issues
    assert leaked(result.output, result.state) == []


def test_single_branch_report_holds_no_full_number(leaky: Path, tmp_path: Path) -> None:
    result = report_flow(ReportRequest([leaky], OCT, tmp_path / "one.xlsx", ReportKind.BRANCH, now=NOW, as_of=NOW))
    assert leaked(result.output) == []


def test_show_contacts_shows_them_and_a_later_masked_update_masks_the_store(leaky: Path, tmp_path: Path) -> None:
    """The check above can fail: with --show-contacts the numbers are there; an --update without it
    masks what the previous run kept in full."""
    out = tmp_path / "group.xlsx"
    shown = report_flow(ReportRequest([leaky], OCT, out, now=NOW, as_of=NOW, contacts=Contacts.SHOWN))
    assert shown.state is not None
    assert set(leaked(shown.output, shown.state)) >= {"13700002222", "13700001111"}
    again = report_flow(ReportRequest([], OCT, out, ReportKind.UPDATE, now=NOW, as_of=NOW))
    assert again.state is not None and leaked(again.output, again.state) == []


@pytest.mark.parametrize(("text", "kept"), [
    ("BJ01-2611-007", "BJ01-2611-007"),             # a complaint number is not a phone number
    ("2026-12", "2026-12"),                          # nor a month
    ("2026-10-05 09:30:00", "2026-10-05 09:30:00"),  # nor a time as problems show it
    ("王先生13700001111", "王先生137****1111"),
    ("电话 010-6552 1234", "电话 010-**** 1234"),
])
def test_mask_text_masks_phone_numbers_only(text: str, kept: str) -> None:
    assert mask_text(text) == kept


def stored_handlers(result: RunResult) -> set[str]:
    """Every handler's name the run's facts store keeps, read back from its partitions."""
    assert result.state is not None
    branches, _, _ = load_facts(result.state, OCT, result.run_id)
    return {n for f in branches for c in f.cases for n in c.handler_names()}


def test_handlers_names_with_a_number_typed_in_are_masked(branch: Callable[..., Path], tmp_path: Path) -> None:
    """A handler's name is shown by the By-handler sheet and kept per stage in the facts store: a number typed
    with it (on the Register or a Tracking row) is masked there too; names without one are kept as typed."""
    path = branch(
        register=[{**_row("2026-10-03 10:00", "张三", "13800138000", "柜台态度差"), "no": "BJ01-2610001",
                   "handler": "李工13700002222"},
                  {**_row("2026-10-04 10:00", "李四", "13800138001", "等候太久"), "no": "BJ01-2610002",
                   "handler": "赵敏"}],
        tracking=[{"no": "BJ01-2610001", "at": datetime(2026, 10, 3, 11), "step": "处理中",
                   "handler": "王工 13700003333"}])
    out = tmp_path / "group.xlsx"
    masked = report_flow(ReportRequest([path], OCT, out, now=NOW, as_of=NOW))
    assert masked.state is not None and leaked(masked.output, masked.state) == []
    assert {"李工137****2222", "王工 137****3333", "赵敏"} <= stored_handlers(masked)
    shown = report_flow(ReportRequest([path], OCT, tmp_path / "shown.xlsx", now=NOW, as_of=NOW,
                                      contacts=Contacts.SHOWN))
    assert {"李工13700002222", "王工 13700003333"} <= stored_handlers(shown)

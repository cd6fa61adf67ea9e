"""A head office imposes one SLA policy on every branch with a TOML file."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xlcomplaints.core.policy import PolicyFileError, load_policy_file
from xlcomplaints.flows import refresh_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook

POLICY = """
[[rule]]
stage = "调查处理"
amount = 1
unit = "工作日"
source = "集团规定：一个工作日内处理"

[[rule]]
stage = "close"
severity = "major"
amount = 5
unit = "calendar_days"
"""


def test_rules_read_by_code_or_label(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    rules = load_policy_file(path)
    assert [(r.stage, r.severity, r.amount, r.unit) for r in rules] == [
        ("resolve", None, 1.0, "working_days"), ("close", "major", 5.0, "calendar_days")]


@pytest.mark.parametrize(("text", "where"), [
    ("[[rule]]\nstage = 'resolve'\namount = 1\nunit = 'weeks'\n", "'unit'"),
    ("[[rule]]\nstage = 'resolve'\nunit = 'hours'\n", "'amount'"),
    ("[[rule]]\nstage = 'resolve'\namount = 1\nunit = 'hours'\ncolour = 'red'\n", "'colour'"),
    ("rule = 1\n", "no [[rule]]"),
    ("[[rule\n", "cannot be read"),
])
def test_bad_files_are_located(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as e:
        load_policy_file(path)
    assert where in e.value.message("en") and "policy.toml" in e.value.message("zh")


def test_refresh_with_head_office_policy(branch, tmp_path: Path) -> None:
    path = branch(register=[{"received_at": "2026-09-30 10:00", "channel": "电话", "customer": "张三",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    toml = tmp_path / "policy.toml"
    toml.write_text(POLICY, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "refresh", str(path), "--policy", str(toml),
                             "--now", "2026-10-09 09:00"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name("投诉登记").to_python()
    assert grid[1][B.REGISTER.index("resolve_due")] == datetime(2026, 10, 8, 23, 59, 59)  # 1 WD after 9/30
    assert grid[1][B.REGISTER.index("acknowledge_status")] == "不适用"  # no rule → no deadline
    assert grid[1][B.REGISTER.index("acknowledge_due")] in ("", None)
    # the workbook's own table was not touched
    plan = refresh_flow(FileWorkbook(path), now=datetime(2026, 10, 9, 9)).plan
    assert plan is not None and plan.register.get(2, "resolve_due") == datetime(2026, 10, 10, 23, 59, 59)

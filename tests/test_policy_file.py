"""A head office imposes one SLA policy on every branch with a TOML file."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xlcomplaints.core.policy import PolicyFileError
from xlcomplaints.flows import refresh_flow
from xlcomplaints.policy_file import load_policy_file
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


@pytest.mark.parametrize(("amount", "code", "words_en", "words_zh"), [
    ("-1", "number.too_small", "below the minimum 0", "小于允许的最小值 0"),
    ("1e308", "number.too_large", f"above the maximum {B.MAX_LIMIT_HOURS}", f"大于允许的最大值 {B.MAX_LIMIT_HOURS}"),
    ("99999999", "number.too_large", f"above the maximum {B.MAX_LIMIT_HOURS}", "大于允许的最大值"),
])
def test_out_of_range_amount_is_a_sentence_not_a_code(tmp_path: Path, amount: str, code: str, words_en: str,
                                                      words_zh: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"[[rule]]\nstage = 'resolve'\namount = {amount}\nunit = 'calendar_days'\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as e:
        load_policy_file(path)
    en, zh = e.value.message("en"), e.value.message("zh")
    assert code not in en and code not in zh
    assert "'amount'" in en and "rule 1" in en and words_en in en
    assert "amount" in zh and words_zh in zh


def test_rule_that_is_not_a_table_is_located(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("rule = [1]\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as e:
        load_policy_file(path)
    assert e.value.code == "policy.toml_not_table" and "rule 1" in e.value.message("en")


def test_cli_refresh_with_huge_policy_amount_says_where(branch, tmp_path: Path) -> None:
    path = branch()
    before = path.read_bytes()
    toml = tmp_path / "huge.toml"
    toml.write_text("[[rule]]\nstage = 'resolve'\namount = 1e308\nunit = 'calendar_days'\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "refresh", str(path), "--policy", str(toml),
                          "--lang", "en"], capture_output=True, text=True, timeout=120)
    out = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 2, out
    assert "huge.toml, rule 1, 'amount'" in out and str(B.MAX_LIMIT_HOURS) in out
    assert "internal error" not in out and "Traceback" not in out
    assert path.read_bytes() == before

"""The command line as users run it: a real subprocess, real files, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import type_rows

CLI = [sys.executable, "-m", "xlcomplaints.cli"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_new_validate_refresh(tmp_path: Path) -> None:
    wb = tmp_path / "bj01.xlsx"
    assert run("new", wb, "--branch-code", "BJ01", "--branch-name", "北京一店").returncode == 0
    assert run("new", wb, "--branch-code", "BJ01").returncode == 2          # never overwrites silently
    clean = run("validate", wb)
    assert clean.returncode == 0 and "没有发现问题" in clean.stdout
    type_rows(wb, "register", [{"received_at": "2026/13/1", "channel": "电话", "customer": "张三",
                                "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    bad = run("validate", wb, "--json", "--lang", "en")
    assert bad.returncode == 1
    problems = json.loads(bad.stdout)
    p = next(p for p in problems if p["cell"] == "B2")
    assert p["sheet"] == "投诉登记" and p["column"] == "受理时间" and p["value"] == "2026/13/1"
    assert p["level"] == "error" and "date" in p["message"].lower()
    refreshed = run("refresh", wb, "--now", "2026-11-22 09:00", "--lang", "en")
    assert refreshed.returncode == 0 and "Saved" in refreshed.stdout
    again = run("refresh", wb, "--now", "2026-11-22 09:00", "--lang", "en")
    assert "Nothing changed" in again.stdout


@pytest.mark.parametrize(("content", "zh", "en"), [
    (b"not a workbook", "不是 Excel 工作簿", "is not an Excel workbook"),
    (b"PK\x03\x04\x00\x00garbage", "已损坏", "is damaged"),
])
def test_unreadable_files_exit_2_with_a_clear_message(tmp_path: Path, content: bytes, zh: str, en: str) -> None:
    path = tmp_path / "branch.xlsx"
    path.write_bytes(content)
    for lang, text in (("zh", zh), ("en", en)):
        result = run("validate", path, "--lang", lang)
        assert result.returncode == 2
        assert text in result.stderr and "Traceback" not in result.stderr + result.stdout
    as_json = run("validate", path, "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]


def test_brackets_in_cells_names_and_messages_are_printed_as_typed(tmp_path: Path) -> None:
    """Square brackets are text, not console markup: a "[/]" typed in a cell used to stop
    validate with a traceback, "[急]"-style tags vanished, and "[[rule]]" left a message."""
    folder = tmp_path / "[北京]"
    folder.mkdir()
    wb = folder / "[bj01].xlsx"
    run("new", wb, "--branch-code", "BJ01")
    type_rows(wb, "register", [{"received_at": "2026-10-08 10:00", "channel": "[/]", "customer": "张三",
                                "category": "其他", "severity": "[bold]一般", "validity": "有效", "content": "x"}])
    bad = run("validate", wb)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    assert "[/]" in bad.stdout and "[bold]一般" in bad.stdout and "[bj01].xlsx: 2 个错误" in bad.stdout
    policy = tmp_path / "empty.toml"
    policy.write_text("# nothing yet\n", encoding="utf-8")
    no_rules = run("refresh", wb, "--policy", policy, "--lang", "en")
    assert no_rules.returncode == 2 and "has no [[rule]] entries" in no_rules.stderr


@pytest.mark.parametrize(("args", "said"), [
    (("new", "{tmp}/b.xlsm", "--branch-code", "BJ01"), "带按钮的 .xlsm 请用 xlcomplaints excel new"),
    (("new", "{tmp}/b.xls", "--branch-code", "BJ01"), "文件名须以 .xlsx 结尾"),
    (("new", "{tmp}/nowhere/b.xlsx", "--branch-code", "BJ01"), "/nowhere 不存在"),
    (("excel", "new", "{tmp}/nowhere/b.xlsm", "--branch-code", "BJ01", "--lang", "en"), "/nowhere does not exist"),
    (("new", "{tmp}/b.xlsx", "--branch-code", " "), "--branch-code 不能为空"),
    (("new", "{tmp}/b.xlsx", "--branch-code", "BJ01", "--lang", "fr"), "--lang 只能是 zh 或 en / --lang must be zh"),
    (("consolidate", "{tmp}", "--month", "2026-10", "-o", "{tmp}/r.xlsx", "--workers", "0"), "--workers"),
])
def test_what_new_and_consolidate_cannot_do_is_refused_in_a_sentence(tmp_path: Path, args: tuple[str, ...],
                                                                      said: str) -> None:
    """Each used to end in an internal error (a folder that does not exist, --workers 0) or to make
    a file Excel will not open (.xlsx content named .xlsm or .xls)."""
    result = run(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.returncode == 2 and said in result.stderr and "internal error" not in result.stderr
    assert not [p for p in tmp_path.rglob("b.*")]


def test_missing_file_and_bad_now(tmp_path: Path) -> None:
    missing = run("refresh", tmp_path / "nope.xlsx")
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
    wb = tmp_path / "a.xlsx"
    run("new", wb, "--branch-code", "SH02")
    bad_now = run("refresh", wb, "--now", "next tuesday")
    assert bad_now.returncode == 2 and "--now" in bad_now.stderr


def test_demo_writes_validated_refreshed_workbooks(tmp_path: Path) -> None:
    result = run("demo", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for code in ("BJ01", "SH02", "GZ03"):
        assert (tmp_path / "demo" / f"{code}.xlsx").exists()
        assert f"{code}.xlsx" in result.stdout
    report = tmp_path / "demo" / "月报-2026-10.xlsx"
    assert report.exists() and "月报-2026-10.xlsx" in result.stdout
    from python_calamine import CalamineWorkbook

    names = CalamineWorkbook.from_path(report).sheet_names
    assert names[0] == "封面" and "问题清单" in names

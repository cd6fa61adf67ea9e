"""Every refusal reads the same way, and running out of memory is a refusal, not a bug.

A command that stops without doing its work says so in one sentence on stderr that starts with
``错误：`` (``Error: `` in English), exits 2, and never shows a traceback; a command that has
saved ends with success whatever happens while it reports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import type_rows
from tests.test_cli import run
from xlcomplaints.api import new_workbook

PREFIX = {"zh": "错误：", "en": "Error: "}

#: Refusals of every command, each triggered as a user would (``{tmp}`` holds ``bad.xlsx``, which is
#: not a workbook, and ``empty/``, a folder without one).
REFUSALS = {
    "missing file": ("validate", "{tmp}/missing.xlsx"),
    "not a workbook": ("validate", "{tmp}/bad.xlsx"),
    "refresh, not a workbook": ("refresh", "{tmp}/bad.xlsx"),
    "assign-ids, not a workbook": ("assign-ids", "{tmp}/bad.xlsx"),
    "adopt, not a workbook": ("adopt", "{tmp}/bad.xlsx"),
    "new, wrong suffix": ("new", "{tmp}/b.xls", "--branch-code", "BJ01"),
    "new, file exists": ("new", "{tmp}/bad.xlsx", "--branch-code", "BJ01"),
    "report of a folder": ("report", "{tmp}", "--month", "2026-10", "-o", "{tmp}/r.xlsx"),
    "unreadable --month": ("report", "{tmp}/bad.xlsx", "--month", "10/2026", "-o", "{tmp}/r.xlsx"),
    "unreadable --now": ("report", "{tmp}/bad.xlsx", "--month", "2026-10", "-o", "{tmp}/r.xlsx", "--now", "soon"),
    "report not .xlsx": ("report", "{tmp}/bad.xlsx", "--month", "2026-10", "-o", "{tmp}/r.csv"),
    "nothing usable": ("consolidate", "{tmp}/bad.xlsx", "--month", "2026-10", "-o", "{tmp}/r.xlsx"),
    "no workbook in the folder": ("consolidate", "{tmp}/empty", "--month", "2026-10", "-o", "{tmp}/r.xlsx"),
    "standalone over an existing file": ("excel", "standalone", "{tmp}/bad.xlsx", "{tmp}/bad.xlsx"),
    "standalone of a non-workbook": ("excel", "standalone", "{tmp}/bad.xlsx", "{tmp}/out.xlsm"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refusal_is_one_line_starting_with_the_same_word(tmp_path: Path, case: str, lang: str) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "empty").mkdir()
    result = run(*(a.replace("{tmp}", str(tmp_path)) for a in REFUSALS[case]), "--lang", lang)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result
    assert lines and all(line.startswith(PREFIX[lang]) for line in lines), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_language_is_refused_in_both_starting_as_every_refusal_does(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "x.xlsx", "--lang", "fr")
    assert result.returncode == 2
    assert result.stderr.startswith(PREFIX["zh"]) and "must be zh or en" in result.stderr


# ---- out of memory: said as such, with the file, exit 2; never after a save

#: Runs the CLI in a fresh process after ``patch`` (Python source) has made some step run out of memory.
_PATCHED = """
import sys
{patch}
from xlcomplaints.cli import main
sys.argv = ["xlcomplaints", *sys.argv[1:]]
main()
"""


def run_patched(patch: str, *args: str | Path, everywhere: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``everywhere``: a folder the patch is written to as ``sitecustomize.py`` instead, on PYTHONPATH, so that it
    runs in every process of the run, the pool's workers included (started by spawn or from a forkserver, they
    do not inherit what the command's own process patched)."""
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    if everywhere is not None:
        everywhere.mkdir()
        (everywhere / "sitecustomize.py").write_text(patch, encoding="utf-8")
        patch, env = "", {**env, "PYTHONPATH": str(everywhere)}
    return subprocess.run([sys.executable, "-c", _PATCHED.format(patch=patch), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def _branch(tmp_path: Path, name: str = "bj01.xlsx") -> Path:
    path = tmp_path / name
    new_workbook(path, branch_code="BJ01", branch_name="北京一店")
    type_rows(path, "register", [{"received_at": "2026-10-08 09:00", "channel": "电话", "customer": "张三",
                                  "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    return path


READER_RUNS_OUT = """
import xlcomplaints.workbook.file as f
def out_of_memory(self):
    raise MemoryError
f.FileWorkbook._open_reader = out_of_memory
"""


@pytest.mark.parametrize("command", ["validate", "refresh", "assign-ids"])
@pytest.mark.parametrize(("lang", "said"), [("zh", "内存不足，无法读取 bj01.xlsx"),
                                            ("en", "Not enough memory to read bj01.xlsx")])
def test_running_out_of_memory_reading_a_workbook_is_a_refusal_naming_it(tmp_path: Path, command: str,
                                                                         lang: str, said: str) -> None:
    path = _branch(tmp_path)
    before = path.read_bytes()
    result = run_patched(READER_RUNS_OUT, command, path, "--lang", lang)
    assert result.returncode == 2, result
    assert result.stderr.startswith(PREFIX[lang] + said) and result.stderr.count("\n") == 1
    assert "internal error" not in result.stderr and path.read_bytes() == before


def test_running_out_of_memory_elsewhere_is_still_exit_2_not_please_report(tmp_path: Path) -> None:
    result = run_patched("import xlcomplaints.demo as d\ndef out(*a, **k):\n    raise MemoryError\nd.run_demo = out",
                         "demo", tmp_path / "demo")
    assert result.returncode == 2 and result.stderr.startswith(PREFIX["zh"] + "内存不足"), result
    assert "internal error" not in result.stderr


def test_a_report_out_of_memory_names_the_report(tmp_path: Path) -> None:
    path = _branch(tmp_path)
    patch = ("import xlcomplaints.report.run as r\ndef out(*a, **k):\n    raise MemoryError\n"
             "r.write_report = out")
    result = run_patched(patch, "report", path, "--month", "2026-10", "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert result.returncode == 2 and result.stderr.startswith("Error: Not enough memory to make the report r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()


def test_a_branch_out_of_memory_is_listed_and_the_others_reported(tmp_path: Path) -> None:
    folder = tmp_path / "branches"
    folder.mkdir()
    _branch(folder, "bj01.xlsx")
    new_workbook(folder / "sh01.xlsx", branch_code="SH01")
    patch = ("import xlcomplaints.report.consolidate as c\nread = c.read_branch\n"
             "def out(port, **k):\n    if port.path.name == 'sh01.xlsx':\n        raise MemoryError\n"
             "    return read(port, **k)\nc.read_branch = out")
    report = tmp_path / "r.xlsx"
    result = run_patched(patch, "consolidate", folder, "--month", "2026-10", "-o", report, "--workers", "1",
                         "--now", "2026-11-01 00:00", everywhere=tmp_path / "patch")  # the worker reads the file
    assert result.returncode == 0 and "1 个文件未能计入" in result.stdout, result
    from xlcomplaints.workbook.file import FileWorkbook
    issues = FileWorkbook(report).values("问题清单")
    said = [str(v) for row in issues for v in row if v]
    assert any("sh01.xlsx 读取时内存不足，未计入" in v for v in said), said
    assert not any("发给维护人员" in v for v in said)


def test_a_refresh_that_saved_never_ends_in_an_internal_error(tmp_path: Path) -> None:
    """A million-row register used to be saved and then exit 3 "please report" while its problems
    were listed: the save stands, the command says so, and ends with success."""
    path = _branch(tmp_path)
    before = path.read_bytes()
    patch = "import xlcomplaints.cli as cli\ndef out(*a, **k):\n    raise MemoryError\ncli.show_problems = out"
    result = run_patched(patch, "refresh", path, "--now", "2026-11-22 09:00")
    assert result.returncode == 0, result
    assert path.read_bytes() != before  # saved
    assert "bj01.xlsx 已保存，但结果无法显示（MemoryError）" in result.stderr
    assert "内部错误" not in result.stderr

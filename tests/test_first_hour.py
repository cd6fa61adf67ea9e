"""The first hour on an office PC: what a newcomer types before anything else works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import type_rows
from tests.test_cli import run
from xlcomplaints import __version__
from xlcomplaints.spec import BRANCH_TEMPLATE_VERSION, REPORT_TEMPLATE_VERSION


def test_version_names_the_package_and_the_template_versions_it_writes() -> None:
    """Support asks "which version?" first: one line with the package and both template versions."""
    out = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    line = out.stdout.strip()
    assert "\n" not in line
    assert __version__ in line and BRANCH_TEMPLATE_VERSION in line and REPORT_TEMPLATE_VERSION in line


def test_problems_in_a_log_are_plain_lines_in_sheet_and_row_order(tmp_path: Path) -> None:
    """A scheduled job's log gets one problem per line, never a table wrapped mid-phrase, and a
    clerk reads them as she walks the sheet: row 2 before row 10, whatever order they were found in."""
    wb = tmp_path / "bj01.xlsx"
    assert run("new", wb, "--branch-code", "BJ01").returncode == 0
    row = {"channel": "电话", "customer": "张三", "category": "其他", "severity": "一般", "validity": "有效",
           "content": "x"}
    rows = [{**row, "received_at": "2026-10-08 09:00"} for _ in range(9)]
    rows[0]["received_at"] = "2026/13/1"      # row 2
    rows[8]["received_at"] = "2026/10/32"     # row 10
    rows[8]["channel"] = "飞信"               # row 10, a later column
    type_rows(wb, "register", rows)
    out = run("validate", wb, "--lang", "en")  # stdout is a pipe here, as in a log
    assert out.returncode == 1
    lines = [line for line in out.stdout.splitlines() if line.startswith("bj01.xlsx: error")]
    cells = [line.split("!")[1].split()[0] for line in lines]
    assert cells[:3] == ["B2", "B10", "D10"]
    assert not any(ch in out.stdout for ch in "┏┃│└")  # no table drawing in a log


def test_problem_order_puts_a2_before_a10_and_keeps_sheets_apart() -> None:
    from xlcomplaints.core.problems import Level, Problem, in_sheet_order
    found = [Problem(level=Level.ERROR, code="x", sheet="投诉登记", cell=c) for c in ("A10", "B2", "A2")]
    found.insert(1, Problem(level=Level.ERROR, code="x", sheet="回访记录", cell="A3"))
    assert [(p.sheet, p.cell) for p in in_sheet_order(found)] == [
        ("投诉登记", "A2"), ("投诉登记", "B2"), ("投诉登记", "A10"), ("回访记录", "A3")]


def _cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlcomplaints.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", **env})


def _commands() -> list[tuple[str, ...]]:
    """Every command and subcommand the app has (a new one is covered without listing it here)."""
    import typer

    from xlcomplaints.cli import app

    group = typer.main.get_command(app)
    found: list[tuple[str, ...]] = [()]
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        found.append((name,))
        found += [(name, sub) for sub in getattr(cmd, "commands", {})]
    return found


COMMANDS = _commands()


def test_help_speaks_the_offices_language_by_default_and_english_when_asked() -> None:
    """A Chinese office PC gets Chinese help; --lang en (before or after the command),
    XLCOMPLAINTS_LANG=en or an English locale get English; with nothing said, Chinese."""
    zh = _cli("validate", "--help", env={"LANG": "zh_CN.UTF-8"}).stdout
    assert "逐格列出所有问题" in zh and "用法" in zh and "显示本帮助后退出" in zh
    assert "List every problem" not in zh
    for how in (dict(args=("--lang", "en", "validate", "--help"), env={}),
                dict(args=("validate", "--help", "--lang", "en"), env={"LANG": "zh_CN.UTF-8"}),
                dict(args=("validate", "--help"), env={"XLCOMPLAINTS_LANG": "en", "LANG": "zh_CN.UTF-8"}),
                dict(args=("validate", "--help"), env={"LANG": "en_GB.UTF-8"})):
        out = _cli(*how["args"], env=how["env"]).stdout  # type: ignore[arg-type]
        assert "List every problem" in out, how
    assert "逐格列出所有问题" in _cli("validate", "--help", env={}).stdout  # no locale named: Chinese


def test_help_has_no_programmers_placeholders() -> None:
    """No {out}, <path>, <list[Path]> or <int range> in what a clerk reads."""
    for lang in ("zh", "en"):
        for cmd in COMMANDS:
            out = _cli("--lang", lang, *cmd, "--help", env={})
            assert out.returncode == 0, (cmd, out.stderr)
            for placeholder in ("<", "{", "}"):
                assert placeholder not in out.stdout, (lang, cmd, out.stdout)


def test_lang_before_the_command_is_accepted_and_used(tmp_path: Path) -> None:
    """`xlcomplaints --lang en new …` speaks English; an unknown language is refused in both."""
    made = _cli("--lang", "en", "new", tmp_path / "a.xlsx", "--branch-code", "BJ01", env={})
    assert made.returncode == 0 and made.stdout.startswith("Created")
    refused = _cli("--lang", "fr", "new", tmp_path / "b.xlsx", "--branch-code", "BJ01", env={})
    assert refused.returncode == 2 and "zh" in refused.stderr and not (tmp_path / "b.xlsx").exists()


USAGE_MISTAKES = [
    (("consolidate", "branches", "-o", "x.xlsx"), "--period"),  # a required option left out (or --month)
    (("validat", "bj01.xlsx"), "validat"),                       # a command mistyped
    (("validate",), "FILE"),                                     # the workbook left out
    (("validate", "a.xlsx", "b.xlsx"), "b.xlsx"),                # one workbook too many
    (("new", "x.xlsx", "--bogus"), "--bogus"),                   # an option that does not exist
    (("consolidate", "branches", "--month", "2026-10", "-o", "x.xlsx", "--workers", "0"), "--workers"),
    (("consolidate", "branches", "--month", "2026-10", "-o", "x.xlsx", "--workers", "two"), "--workers"),
    (("consolidate", "branches", "--month", "2026-10", "-o", "x.xlsx", "--region-wait", "7200"), "--region-wait"),
]


def test_a_mistyped_command_line_is_one_refusal_in_the_offices_language(tmp_path: Path) -> None:
    """Typer's own 'Usage: … Error: …' block is English and three lines long; a clerk gets one
    sentence like every other refusal, naming what is wrong and where the usage is, exit 2."""
    for args, named in USAGE_MISTAKES:
        for lang, prefix in (("zh", "错误："), ("en", "Error: ")):
            out = _cli("--lang", lang, *args, env={})
            lines = out.stderr.strip().splitlines()
            assert out.returncode == 2, (args, out.stderr)
            assert len(lines) == 1 and lines[0].startswith(prefix), (args, lang, out.stderr)
            assert named in lines[0] and "--help" in lines[0], (args, lang, out.stderr)
            assert "Usage" not in out.stderr and "Try" not in out.stderr
    zh = _cli("consolidate", "branches", "-o", "x.xlsx", env={}).stderr
    assert "缺少选项 --period" in zh
    for args, why in ((USAGE_MISTAKES[-3][0], "应不小于 1"), (USAGE_MISTAKES[-2][0], "应是整数"),
                      (USAGE_MISTAKES[-1][0], "应不大于 3600")):  # why a value is refused, in the clerk's language
        said = _cli(*args, env={}).stderr
        assert why in said and "Input should" not in said, said

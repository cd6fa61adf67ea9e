"""Every refusal reads the same way.

A command that stops without doing its work says so in one sentence on stderr that starts with
``错误：`` (``Error: `` in English), exits 2, and never shows a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run

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

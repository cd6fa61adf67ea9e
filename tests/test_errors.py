"""One kind of refusal: a code and its parameters, rendered once, shown alike wherever it surfaces.

Every error a user reads (a whole file, one cell, a head office's policy file, a workbook that
cannot be made standalone) is an ``XlcError``; the command line says any of them as one sentence
after the refusal prefix, with exit code 2, in the language asked for.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from xlcomplaints.console import REFUSAL_PREFIX
from xlcomplaints.core.cells import CellError, parse_bool
from xlcomplaints.core.policy import PolicyFileError
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import Lang, pick, render, say
from xlcomplaints.policy_file import load_policy_file
from xlcomplaints.templates.macro import StandaloneError
from xlcomplaints.workbook.errors import WorkbookError

CLI = [sys.executable, "-m", "xlcomplaints.cli"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("error", [
    WorkbookError("file.missing", path="bj01.xlsx"),
    CellError("bool.unknown", value="也许"),
    PolicyFileError("policy.toml_no_rules", path="head-office.toml"),
    StandaloneError("standalone.no_vba", path="plain.xlsx"),
])
def test_every_refusal_is_one_code_rendered_once_in_either_language(error: XlcError) -> None:
    assert isinstance(error, XlcError)
    for lang in Lang:
        said = error.message(lang)
        assert said == render(error.code, lang, error.params)
        assert said != error.code  # its code is in a catalogue
    assert error.message("zh") != error.message("en")
    copy = pickle.loads(pickle.dumps(error))  # a worker process hands it back whole
    assert type(copy) is type(error) and copy.code == error.code and copy.params == error.params


def test_a_cell_error_is_still_a_value_error_for_the_parsers_callers() -> None:
    with pytest.raises(ValueError) as caught:
        parse_bool("也许")
    assert isinstance(caught.value, CellError) and caught.value.code == "bool.unknown"


def test_a_policy_file_error_is_rendered_from_its_code(tmp_path: Path) -> None:
    policy = tmp_path / "head-office.toml"
    policy.write_text("[settings]\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(policy)
    assert caught.value.code == "policy.toml_no_rules"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_command_line_says_any_refusal_alike(tmp_path: Path, lang: str) -> None:
    missing = tmp_path / "nowhere.xlsx"
    gone = run("validate", missing, "--lang", lang)
    assert gone.returncode == 2
    expected = WorkbookError("file.missing", path=str(missing)).message(lang)
    assert gone.stderr.strip() == REFUSAL_PREFIX[Lang(lang)] + expected

    workbook = tmp_path / "bj01.xlsx"
    assert run("new", workbook, "--branch-code", "BJ01").returncode == 0
    policy = tmp_path / "head-office.toml"
    policy.write_text("[settings]\n", encoding="utf-8")
    refused = run("refresh", workbook, "--policy", policy, "--lang", lang)
    assert refused.returncode == 2
    expected = PolicyFileError("policy.toml_no_rules", path=policy.name).message(lang)
    assert refused.stderr.strip() == REFUSAL_PREFIX[Lang(lang)] + expected


def test_language_helpers() -> None:
    assert Lang.of(None) is Lang.ZH and Lang.of("en") is Lang.EN and Lang.of("zh_CN") is Lang.ZH
    assert pick("zh", 1, 2) == 1 and pick("en", 1, 2) == 2
    assert say(("{n} 宗", "{n} complaint(s)"), "en", n=3) == "3 complaint(s)"
    assert say(("{n} 宗", "{n} complaint(s)"), "zh") == "{n} 宗"  # nothing to fill: the text as it stands

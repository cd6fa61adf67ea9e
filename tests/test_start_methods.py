"""The consolidation's worker processes started as on the offices' Windows PCs (spawn), and as the pool starts
them here (``pool.START_METHOD``: a forkserver on Linux), against fork, Linux's default before Python 3.14.

Each run is the command line in a process of its own, started as the Excel buttons' xlwings starts Python
(``python -c …``: a ``__main__`` with no file, which a spawned worker cannot import) or from a head office's
script (a file, its work under the ``if __name__ == "__main__":`` guard), the pool's start method set there
before the command runs (test-only: ``pool.START_METHOD``). The launcher says which start method each pool
it made used. The reports are compared cell for cell: a full consolidation (three branch workbooks and a real
workbook that is not one, said on the Issues sheet), an ``--update`` of one branch, and the demo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import python_calamine

from tests.conftest import REAL_EXCEL, head_office
from xlcomplaints.api import monthly_report
from xlcomplaints.demo import run_demo
from xlcomplaints.report import consolidate as C
from xlcomplaints.report import pool as P

NOW = "2026-11-02 09:00"
NOW_AT = datetime(2026, 11, 2, 9, 0)
NOT_A_BRANCH = REAL_EXCEL / "simple-monthly-budget.xlsx"

#: Set the pool's start method, note the method of every pool the run makes, run the command line.
LAUNCH = """
import sys
from xlcomplaints.report import consolidate, pool
pool.START_METHOD = sys.argv[1]
made = []
def recording(*args, _made=consolidate.default_executor, **kw):
    made.append(_made(*args, **kw))
    return made[-1]
consolidate.default_executor = recording
from xlcomplaints.cli import main
sys.argv = ["xlcomplaints", *sys.argv[2:]]
try:
    main()
finally:
    print("START-METHODS", *[made_pool._mp_context.get_start_method() for made_pool in made], file=sys.stderr)
"""
#: The same from a script file, as a head office writes one.
SCRIPT = "if __name__ == '__main__':\n" + "".join(f"    {line}\n" for line in LAUNCH.strip().splitlines())


def launch(method: str, *args: str | Path, cwd: Path, script: Path | None = None) -> list[str]:
    """Run ``xlcomplaints ARGS`` with the pool's workers started by ``method``; the start methods of the pools
    it made."""
    how = [str(script)] if script else ["-c", LAUNCH]
    done = subprocess.run([sys.executable, *how, method, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    said = [line for line in done.stderr.splitlines() if line.startswith("START-METHODS")]
    assert said, done.stderr[-3000:]
    return said[-1].split()[1:]


def grids(path: Path) -> dict[str, list[list[object]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def same(got: Path, want: Path) -> None:
    mine, theirs = grids(got), grids(want)
    assert list(mine) == list(theirs)
    for sheet in theirs:
        assert mine[sheet] == theirs[sheet], sheet


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's three branch workbooks under ``branches/``, and beside it a real workbook that is no branch's."""
    home = head_office(tmp_path_factory.mktemp("start-methods"))
    if NOT_A_BRANCH.is_file():
        shutil.copy(NOT_A_BRANCH, home / NOT_A_BRANCH.name)
    return home


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_consolidation_and_its_update_with_spawned_workers_equal_forked_ones_cell_for_cell(
        office: Path, lang: str) -> None:
    inputs = ["branches", *([NOT_A_BRANCH.name] if NOT_A_BRANCH.is_file() else [])]  # a file given by name is read
    reports, fulls = {}, {}
    for method in ("fork", "spawn"):
        out = office / f"{method}-{lang}" / "group-2026-10.xlsx"
        out.parent.mkdir()
        assert launch(method, "consolidate", *inputs, "--month", "2026-10", "-o", out, "--now", NOW,
                      "--lang", lang, "--workers", "2", cwd=office) == [method]
        full = grids(out)
        assert NOT_A_BRANCH.name in str(full) or not NOT_A_BRANCH.is_file()  # a worker's refusal, on Issues
        fulls[method] = full
        assert launch(method, "consolidate", "branches/SH02.xlsx", "--update", "--month", "2026-10", "-o", out,
                      "--now", NOW, "--lang", lang, cwd=office) == [method]
        reports[method] = out
        assert set(grids(out)) == set(full)
    assert fulls["spawn"] == fulls["fork"]
    same(reports["spawn"], reports["fork"])


def test_the_demo_from_a_head_offices_script_with_spawned_workers_equals_forked(tmp_path: Path) -> None:
    script = tmp_path / "head_office.py"
    script.write_text(SCRIPT, encoding="utf-8")
    for method in ("fork", "spawn"):
        assert launch(method, "demo", tmp_path / method, cwd=tmp_path, script=script) == [method]
    same(tmp_path / "spawn" / "月报-2026-10.xlsx", tmp_path / "fork" / "月报-2026-10.xlsx")


def test_the_pool_never_forks_the_head_offices_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its workers start from a forkserver (Linux) or by spawn (Windows, macOS), whatever threads this process
    has (``START_METHOD``); the run gives the report the demo's own run gave."""
    assert ("forkserver" if sys.platform.startswith("linux") else "spawn") == P.START_METHOD
    assert C.read_file.__module__ == P.WORKER_MODULE  # what a forkserver imports before it forks a worker
    pool = C.default_executor(1)
    assert pool._mp_context.get_start_method() == P.START_METHOD  # type: ignore[attr-defined]
    pool.shutdown()
    made = run_demo(tmp_path / "demo")

    def no_fork() -> int:
        raise AssertionError("the head office's process forked")

    monkeypatch.setattr(os, "fork", no_fork)
    from xlcomplaints.api import consolidate

    consolidate(made[:-1], "2026-10", tmp_path / "again.xlsx", now=NOW_AT, workers=2)
    same(tmp_path / "again.xlsx", made[-1])


def test_the_buttons_report_of_one_branch_starts_no_worker(office: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The Excel button (``excel.entry.monthly_report``) writes one branch's report, read in its own process: no
    pool, so nothing a spawned worker would need of xlwings' ``python -c`` process."""

    def no_pool(*args: object, **kw: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(C, "default_executor", no_pool)
    monthly_report(office / "branches" / "BJ01.xlsx", "2026-10", tmp_path / "bj01.xlsx", now=NOW_AT)
    assert (tmp_path / "bj01.xlsx").is_file()

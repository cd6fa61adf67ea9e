"""A branch file replaced while it is read is refused as changed, never read half from each version.

A consolidation runs over a shared folder while clerks save. A workbook is read once, checked
against the limits (``workbook.limits``), then opened again by calamine by its name: a file
swapped in between (Excel saves by replacing the file) was read unchecked — a zip bomb, say, or
another branch's register — with the checked version's package. It is refused now, in the
user's language, and the batch goes on.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import python_calamine

from xlcomplaints.api import consolidate
from xlcomplaints.demo import make_branch
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook


class SwappedBeforeOpening:
    """calamine's workbook class, opening by name only after the file was replaced with ``other``."""

    real = python_calamine.CalamineWorkbook

    def __init__(self, victim: Path, other: Path) -> None:
        self.victim, self.other = victim, other

    def from_path(self, path: str) -> python_calamine.CalamineWorkbook:
        if Path(path).name == self.victim.name:
            swapped = self.victim.with_name("swap.tmp")
            shutil.copy(self.other, swapped)
            swapped.replace(self.victim)  # as Excel saves: a new file put in the old one's place
        return self.real.from_path(path)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def branches(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    folder = tmp_path / "branches"
    folder.mkdir()
    make_branch(folder / "SH02.xlsx", "SH02", "上海二店", n=8, seed=2)
    victim = make_branch(folder / "BJ01.xlsx", "BJ01", "北京一店", n=8, seed=1)
    other = make_branch(tmp_path / "GZ03.xlsx", "GZ03", "广州三店", n=5, seed=3)
    yield victim, other


def test_a_file_replaced_between_the_check_and_the_read_is_refused_as_changed(
        branches: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    victim, other = branches
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", SwappedBeforeOpening(victim, other))
    with pytest.raises(WorkbookError) as e:
        FileWorkbook(victim)
    assert e.value.code == "file.changed"
    assert "BJ01.xlsx" in e.value.message("zh") and "重新运行" in e.value.message("zh")
    assert "Run again" in e.value.message("en")


def test_the_batch_lists_it_and_reports_the_others(branches: tuple[Path, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    victim, other = branches
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", SwappedBeforeOpening(victim, other))
    with ThreadPoolExecutor(1) as here:  # read in this process, where calamine is the one swapping the file
        run = consolidate([victim.parent], "2026-10", tmp_path / "group.xlsx", now=datetime(2026, 11, 2, 9),
                          executor=here)
    assert sorted(run.consolidation.branches) == ["SH02"]  # never GZ03's rows under BJ01's checked package
    assert [(p.file, p.code) for p in run.consolidation.issues if p.code == "file.changed"] == [("BJ01.xlsx",
                                                                                                 "file.changed")]
    assert (tmp_path / "group.xlsx").is_file()

"""A save never loses another program's save, whenever it lands (issue 17, saves 1 and 6).

Another program's save is injected at each step of our save through the ``safety._step`` seam
(no sleeps): Excel saves by writing a new file and renaming it over the workbook, which is
what ``rival_save`` does. Whatever it saved must end up in place (or, when it cannot go back,
as the backup), and a save it landed before is refused as "changed since read".
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.samples import write_branch
from tests.test_metrics import hand_branch
from xlcomplaints.cli import app
from xlcomplaints.workbook import owners, safety
from xlcomplaints.workbook.owners import LeftoverAction, TempKind, clear_leftovers, temp_file
from xlcomplaints.workbook.safety import (
    SaveStep,
    WorkbookChangedError,
    atomic_write,
    backup_path,
    stamp_file,
)

READ, OURS, THEIRS, LATER = b"what we read", b"what we write", b"the clerk's save", b"a later save"


def rival_save(path: Path, data: bytes) -> None:
    """Save as Excel does: a new file beside the workbook, renamed over it."""
    tmp = path.with_name("~clerk.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@pytest.fixture
def at_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[SaveStep, Callable[[], None]], None]]:
    """Run an action when our save reaches a step."""
    actions: dict[SaveStep, list[Callable[[], None]]] = {}

    def hook(step: SaveStep) -> None:
        for action in actions.pop(step, []):
            action()

    monkeypatch.setattr(safety, "_step", hook)
    yield lambda step, action: actions.setdefault(step, []).append(action)


def ours_left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("step", [SaveStep.WRITTEN, SaveStep.CHECKED, SaveStep.ASIDE])
def test_a_save_landing_before_ours_takes_the_name_stays_and_ours_is_refused(
        tmp_path: Path, at_step: Callable[[SaveStep, Callable[[], None]], None], step: SaveStep) -> None:
    path = tmp_path / "登记簿.xlsx"
    path.write_bytes(READ)
    stamp = stamp_file(path)
    at_step(step, lambda: rival_save(path, THEIRS))
    with pytest.raises(WorkbookChangedError):
        atomic_write(path, OURS, expected=stamp)
    assert path.read_bytes() == THEIRS
    if step is SaveStep.ASIDE:  # what we had moved aside (what we read) is the backup
        assert backup_path(path).read_bytes() == READ
    assert ours_left(tmp_path) == []


@pytest.mark.parametrize("step", [SaveStep.INSTALLED, SaveStep.VERIFIED])
def test_a_save_landing_after_ours_is_in_place_and_what_we_read_is_the_backup(
        tmp_path: Path, at_step: Callable[[SaveStep, Callable[[], None]], None], step: SaveStep) -> None:
    path = tmp_path / "登记簿.xlsx"
    path.write_bytes(READ)
    at_step(step, lambda: rival_save(path, THEIRS))
    assert atomic_write(path, OURS, expected=stamp_file(path)) == backup_path(path)
    assert path.read_bytes() == THEIRS and backup_path(path).read_bytes() == READ
    assert ours_left(tmp_path) == []


def test_a_save_moved_aside_with_another_after_ours_keeps_both(
        tmp_path: Path, at_step: Callable[[SaveStep, Callable[[], None]], None]) -> None:
    """The clerk saved just before our move (it is moved aside, unseen) and again just after ours
    went in: the later save stays in place, the earlier one is the backup; nothing is lost."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    stamp = stamp_file(path)
    at_step(SaveStep.CHECKED, lambda: rival_save(path, THEIRS))
    at_step(SaveStep.INSTALLED, lambda: rival_save(path, LATER))
    with pytest.raises(WorkbookChangedError):
        atomic_write(path, OURS, expected=stamp)
    assert path.read_bytes() == LATER and backup_path(path).read_bytes() == THEIRS
    assert ours_left(tmp_path) == []


def test_a_save_in_place_that_keeps_the_file_is_caught_too(
        tmp_path: Path, at_step: Callable[[SaveStep, Callable[[], None]], None]) -> None:
    """A program that writes into the same file (no rename) just before our move: the moved
    file is compared, not just its name, and goes back."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    stamp = stamp_file(path)
    at_step(SaveStep.CHECKED, lambda: path.write_bytes(THEIRS))
    with pytest.raises(WorkbookChangedError):
        atomic_write(path, OURS, expected=stamp)
    assert path.read_bytes() == THEIRS and ours_left(tmp_path) == []


def test_the_backup_is_the_very_file_replaced(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    inode = path.stat().st_ino
    made = atomic_write(path, OURS, expected=stamp_file(path))
    assert made is not None and made.stat().st_ino == inode and made.read_bytes() == READ


def test_temporaries_are_private_and_named_after_the_run(tmp_path: Path) -> None:
    tmp = temp_file(tmp_path / "book.xlsx", TempKind.NEW)
    assert tmp.name.startswith(".book.xlsx.new-") and f"-{os.getpid()}-" in tmp.name
    assert tmp.stat().st_mode & 0o777 == 0o600


def dead_pid() -> int:
    """The id of a process that has ended (one we started and waited for)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True, timeout=60)
    return int(proc.stdout)


def left_by(pid: int, target: Path, kind: TempKind, data: bytes) -> Path:
    """A temporary file as a run with process id ``pid`` on this host names it."""
    path = target.with_name(f".{target.name}.{kind.value}-{owners._host_tag()}-{pid}-abcd1234.tmp")
    path.write_bytes(data)
    return path


def test_a_killed_runs_temporary_is_removed_and_said_a_live_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    dead = left_by(dead_pid(), path, TempKind.NEW, b"customer data")
    live = left_by(os.getpid(), path, TempKind.NEW, b"being written")
    other = tmp_path / ".other.xlsx.new-00000000-1-abcd1234.tmp"
    other.write_bytes(b"not this workbook's")
    assert clear_leftovers(path, backup_path(path)) == [owners.Leftover(dead.name, LeftoverAction.REMOVED,
                                                                        path.name)]
    assert not dead.exists() and live.exists() and other.exists() and path.read_bytes() == READ


def test_a_workbook_a_killed_run_moved_aside_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    aside = left_by(dead_pid(), path, TempKind.OLD, READ)  # killed between moving it aside and putting ours in
    new = left_by(dead_pid(), path, TempKind.NEW, OURS)
    done = clear_leftovers(path, backup_path(path))
    assert sorted((d.name, d.action) for d in done) == sorted([(aside.name, LeftoverAction.RESTORED),
                                                               (new.name, LeftoverAction.REMOVED)])
    assert path.read_bytes() == READ and ours_left(tmp_path) == []


def test_a_moved_aside_workbook_left_after_ours_went_in_is_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(OURS)
    aside = left_by(dead_pid(), path, TempKind.OLD, READ)
    assert [d.action for d in clear_leftovers(path, backup_path(path))] == [LeftoverAction.KEPT_AS_BACKUP]
    assert not aside.exists() and backup_path(path).read_bytes() == READ and path.read_bytes() == OURS


def test_temporaries_of_an_older_version_are_removed_only_once_old(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    young, old = (tmp_path / f".book.xlsx.{tag}.tmp" for tag in ("k2j4_9xa", "p0q1r2s3"))
    young.write_bytes(b"x")
    old.write_bytes(b"x")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    assert [d.name for d in clear_leftovers(path)] == [old.name]
    assert young.exists() and not old.exists()


def test_refresh_clears_a_killed_runs_copy_of_the_register_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "bj01.xlsx"
    write_branch(path, hand_branch("BJ01", "北京一店"))
    left = left_by(dead_pid(), path, TempKind.NEW, path.read_bytes())  # a full copy, customer data and all
    result = CliRunner().invoke(app, ["refresh", str(path), "--now", "2026-11-22 09:00", "--lang", "en"])
    assert result.exit_code == 0 and not left.exists() and ours_left(tmp_path) == []
    assert f"Removed {left.name}" in result.output


def test_a_workbook_excel_holds_open_on_windows_is_not_moved_aside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel opens a workbook without delete sharing: moving it aside fails with a sharing violation,
    which is "open in Excel", before anything has moved."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(READ)
    real_replace = os.replace

    def excel_holds(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(src) == path:
            raise PermissionError(13, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(safety.os, "replace", excel_holds)
    monkeypatch.setattr(safety, "_WINDOWS", True)
    with pytest.raises(safety.WorkbookLockedError) as info:
        atomic_write(path, OURS, expected=stamp_file(path))
    assert info.value.path == path
    assert path.read_bytes() == READ and ours_left(tmp_path) == [] and not backup_path(path).exists()


@pytest.mark.parametrize("step", list(SaveStep))
def test_a_clerks_save_during_a_refresh_is_never_lost(
        tmp_path: Path, at_step: Callable[[SaveStep, Callable[[], None]], None], step: SaveStep) -> None:
    """The command as a clerk runs it, with Excel saving the workbook at each step of its save."""
    path = tmp_path / "bj01.xlsx"
    write_branch(path, hand_branch("BJ01", "北京一店"))
    read = path.read_bytes()
    at_step(step, lambda: rival_save(path, THEIRS))
    result = CliRunner().invoke(app, ["refresh", str(path), "--now", "2026-11-22 09:00", "--lang", "en"])
    landed_first = step in (SaveStep.WRITTEN, SaveStep.CHECKED, SaveStep.ASIDE)
    assert result.exit_code == (2 if landed_first else 0), result.output
    assert path.read_bytes() == THEIRS and ours_left(tmp_path) == []
    if not landed_first or step is SaveStep.ASIDE:
        assert backup_path(path).read_bytes() == read

"""What held in the red-team, kept held (issue 17): kills, a full disk, read-only folders, two runs at once.

Each refresh here is the real command in a child process, killed (SIGKILL) at a step of its
save chosen through ``XLCOMPLAINTS_TEST_KILL_AT`` or after a bounded random delay; a full disk
is a file-size limit (RLIMIT_FSIZE) on the child; a read-only folder is one its process cannot
create files in (mode 0555, or immutable for root, whom modes do not stop).
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import ROOT
from tests.samples import write_branch
from tests.test_metrics import OCT, hand_branch
from xlcomplaints.flows import refresh_flow
from xlcomplaints.report.run import make_report
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.owners import LeftoverAction
from xlcomplaints.workbook.safety import KILL_AT_ENV, SaveStep, backup_path

NOW = "2026-11-22 09:00"
CLI = [sys.executable, "-c", "from xlcomplaints.cli import main; main()"]


class Ran(NamedTuple):
    code: int  # negative: the signal that ended it
    stderr: str


def cli(*args: str, env: dict[str, str] | None = None, preexec: Callable[[], None] | None = None,
        kill_after: float | None = None) -> Ran:
    """Run the command in a child process."""
    proc = subprocess.Popen([*CLI, *args], cwd=ROOT, env={**os.environ, **(env or {})}, preexec_fn=preexec,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(kill_after)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
    assert proc.stderr is not None
    with proc.stderr:
        said = proc.stderr.read().decode()
    return Ran(proc.wait(120), said)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A branch register as the clerk left it, and what one uninterrupted refresh makes of it."""
    path = tmp_path_factory.mktemp("reference") / "bj01.xlsx"
    write_branch(path, hand_branch("BJ01", "北京一店"))
    before = path.read_bytes()
    assert cli("refresh", str(path), "--now", NOW).code == 0
    return before, path.read_bytes()


def refresh_in_process(path: Path) -> list[LeftoverAction]:
    """The next refresh, as the command opens the workbook: what killed runs left is cleared first."""
    wb = FileWorkbook(path, tidy=True)
    refresh_flow(wb, now=datetime(2026, 11, 22, 9, 0))
    return [d.action for d in wb.tidied]


@pytest.mark.parametrize("step", list(SaveStep))
def test_a_refresh_killed_at_any_step_of_its_save_leaves_the_old_file_or_the_new_one(
        tmp_path: Path, register: tuple[bytes, bytes], step: SaveStep) -> None:
    before, after = register
    path = tmp_path / "bj01.xlsx"
    path.write_bytes(before)
    assert cli("refresh", str(path), "--now", NOW, env={KILL_AT_ENV: step.value}).code == -signal.SIGKILL
    if step is SaveStep.ASIDE:  # killed between two system calls: the old file is beside its name, whole
        assert not path.exists() and any(n.startswith(".bj01.xlsx.old-") for n in leftovers(tmp_path))
    else:
        assert path.read_bytes() in (before, after)
    # The next run puts things right and says what it found; nothing of ours is left behind.
    tidied = refresh_in_process(path)
    assert tidied and (LeftoverAction.RESTORED in tidied) == (step is SaveStep.ASIDE)
    assert path.read_bytes() == after and leftovers(tmp_path) == []


def test_a_refresh_killed_at_random_moments_leaves_the_old_file_or_the_new_one(
        tmp_path: Path, register: tuple[bytes, bytes]) -> None:
    before, after = register
    path = tmp_path / "bj01.xlsx"
    path.write_bytes(before)
    started = time.monotonic()
    assert cli("refresh", str(path), "--now", NOW).code == 0
    whole = time.monotonic() - started
    rng = random.Random(17)
    for _ in range(3):  # a few seconds in all
        path.write_bytes(before)
        cli("refresh", str(path), "--now", NOW, kill_after=rng.uniform(0.5, 1.0) * whole)
        refresh_in_process(path)  # finishes the job and clears what the killed one left
        assert path.read_bytes() == after and leftovers(tmp_path) == []


def test_a_full_disk_refuses_with_exit_2_and_leaves_the_file(tmp_path: Path, register: tuple[bytes, bytes]) -> None:
    before, _ = register
    path = tmp_path / "bj01.xlsx"
    path.write_bytes(before)

    def small_disk() -> None:  # writes past 16 KiB fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))

    ran = cli("refresh", str(path), "--now", NOW, preexec=small_disk)
    assert ran.code == 2 and "Traceback" not in ran.stderr
    assert path.read_bytes() == before and leftovers(tmp_path) == [] and not backup_path(path).exists()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder no file can be created in, even by root (who is not stopped by modes)."""
    folder.chmod(0o555)
    immutable = False
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:
            probe.unlink()
            if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
                pytest.skip("cannot make a folder read-only here")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_folder_refuses_refresh_and_reports_with_exit_2(
        tmp_path: Path, register: tuple[bytes, bytes]) -> None:
    before, _ = register
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "bj01.xlsx"
    path.write_bytes(before)
    # As the red-team found it: last month's report and its store there, and a pending state file
    # an earlier version left (consolidate exited 3 failing to remove it).
    make_report([path], OCT, folder / "g.xlsx", now=datetime(2026, 11, 22, 9, 0))
    (folder / "g.state.json.gz.tmp").write_bytes(b"left by an earlier version")
    was = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with read_only(folder):
        ran = cli("refresh", str(path), "--now", NOW)
        assert ran.code == 2 and "Traceback" not in ran.stderr
        for command, source in (("report", path), ("consolidate", folder)):
            ran = cli(command, str(source), "--month", str(OCT), "-o", str(folder / "g.xlsx"))
            assert ran.code == 2 and "Traceback" not in ran.stderr and "内部错误" not in ran.stderr, ran
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == was


def test_two_refreshes_at_once_one_saves_the_other_says_changed(
        tmp_path: Path, register: tuple[bytes, bytes]) -> None:
    before, after = register
    path = tmp_path / "bj01.xlsx"
    path.write_bytes(before)
    first, second = FileWorkbook(path), FileWorkbook(path)  # both read the clerk's file
    assert refresh_flow(first, now=datetime(2026, 11, 22, 9, 0)).changed
    with pytest.raises(WorkbookError) as info:
        refresh_flow(second, now=datetime(2026, 11, 22, 8, 0))
    assert info.value.code == "file.changed"
    assert path.read_bytes() == after and backup_path(path).read_bytes() == before

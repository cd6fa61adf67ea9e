"""atomic_write and friends: refuse open or changed workbooks, never leave a half-written file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import REAL_EXCEL
from xlcomplaints.workbook import safety
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.safety import (
    FileStamp,
    WorkbookChangedError,
    WorkbookLockedError,
    atomic_write,
    backup_path,
    check_writable,
    lock_candidates,
    read_with_stamp,
    stamp_file,
)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_stamp_matches_content(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"abc")
    stamp = stamp_file(path)
    assert stamp.size == 3 and stamp.sha256.startswith("ba7816bf")
    assert stamp.mtime_ns == path.stat().st_mtime_ns
    assert read_with_stamp(path) == (b"abc", stamp)


def test_new_file_is_written_without_backup(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    assert atomic_write(path, b"new") is None
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600
    assert leftovers(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_existing_file_is_backed_up_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "登记簿.xlsx"
    path.write_bytes(b"old")
    path.chmod(0o640)
    old_mtime = path.stat().st_mtime_ns
    backup = atomic_write(path, b"new", expected=stamp_file(path))
    assert backup == tmp_path / "登记簿.bak.xlsx" == backup_path(path)
    assert backup.read_bytes() == b"old" and backup.stat().st_mtime_ns == old_mtime
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert atomic_write(path, b"newer", backup=False) is None
    assert backup.read_bytes() == b"old"  # only one generation, and only when asked
    assert leftovers(tmp_path) == []


def test_identical_content_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"same")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    (tmp_path / "~$book.xlsx").write_bytes(b"owner")  # even while open: nothing to write
    assert atomic_write(path, b"same") is None
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert not backup_path(path).exists()


@pytest.mark.parametrize(
    ("name", "lock"),
    [
        ("book.xlsx", "~$book.xlsx"),  # what Excel and WPS create
        ("complaints-register.xlsx", "~$complaints-register.xlsx"),
        (
            "complaints-register.xlsx",
            "~$mplaints-register.xlsx",
        ),  # Word-style: first 2 chars dropped
        ("1234567.xlsm", "~$234567.xlsm"),  # Word-style for 7-character stems: first char dropped
        ("投诉登记簿2024年度.xlsx", "~$投诉登记簿2024年度.xlsx"),
        ("book.xlsx", ".~lock.book.xlsx#"),  # LibreOffice
    ],
)
def test_lock_file_refuses_write(tmp_path: Path, name: str, lock: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"old")
    (tmp_path / lock).write_bytes(b"\x05clerk")
    assert tmp_path / lock in lock_candidates(path)
    with pytest.raises(WorkbookLockedError) as info:
        atomic_write(path, b"new")
    assert info.value.path == path and info.value.lock_path == tmp_path / lock
    assert name in str(info.value)
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []
    assert not backup_path(path).exists()


def test_short_names_have_no_truncated_candidates(tmp_path: Path) -> None:
    names = [p.name for p in lock_candidates(tmp_path / "b.xlsx")]
    assert names == ["~$b.xlsx", ".~lock.b.xlsx#"]


def test_changed_or_removed_file_refuses_write(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"read")
    stamp = stamp_file(path)
    path.write_bytes(b"saved by a clerk meanwhile")
    with pytest.raises(WorkbookChangedError) as info:
        atomic_write(path, b"ours", expected=stamp)
    assert info.value.expected == stamp and info.value.actual == stamp_file(path)
    assert path.read_bytes() == b"saved by a clerk meanwhile"
    path.unlink()
    with pytest.raises(WorkbookChangedError) as info:
        check_writable(path, stamp)
    assert info.value.actual is None


def test_touched_but_identical_file_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"read")
    stamp = stamp_file(path)
    os.utime(path, ns=(5, 5))  # a sync client touched it; content is what we read
    check_writable(path, stamp)
    assert atomic_write(path, b"ours", expected=stamp) is not None


def test_failed_replace_leaves_original_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")

    def boom(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safety.os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"new", backup=False)
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_windows_sharing_violation_reads_as_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")

    def denied(src: str, dst: object) -> None:
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(safety.os, "replace", denied)
    monkeypatch.setattr(safety, "_WINDOWS", True)
    with pytest.raises(WorkbookLockedError) as info:
        atomic_write(path, b"new", backup=False)
    assert info.value.lock_path is None
    assert leftovers(tmp_path) == []


def test_package_save_checks_the_file_it_read(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    path.write_bytes((REAL_EXCEL / "simple-monthly-budget.xlsx").read_bytes())
    pkg = XlsxPackage.open(path)
    assert isinstance(pkg.stamp, FileStamp)
    pkg.write_cells("Simple Monthly Budget", {(30, 2): "新的一行"})
    (tmp_path / "~$budget.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError):
        pkg.save()
    (tmp_path / "~$budget.xlsx").unlink()
    with path.open("ab") as fh:
        fh.write(b"\0")  # someone saved in between
    with pytest.raises(WorkbookChangedError):
        pkg.save()
    path.write_bytes((REAL_EXCEL / "simple-monthly-budget.xlsx").read_bytes())
    assert pkg.save() == tmp_path / "budget.bak.xlsx"
    pkg.write_cells("Simple Monthly Budget", {(31, 2): "再一行"})  # continues from the saved file
    assert pkg.save() == tmp_path / "budget.bak.xlsx"
    with pytest.raises(ValueError):
        XlsxPackage.open(path.read_bytes()).save()


def test_a_symbolic_link_has_its_target_replaced_and_stays_a_link(tmp_path: Path) -> None:
    """Offices link a shared drive's workbook into a folder: the workbook itself is updated (the
    link used to be replaced by a new file, the workbook left as it was), its backup beside it;
    a lock beside the link (Excel opened it through the link) refuses."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "bj01.xlsx"
    target.write_bytes(b"old")
    link = tmp_path / "bj01.xlsx"
    link.symlink_to(target)
    assert atomic_write(link, b"new", expected=stamp_file(link)) == shared / "bj01.bak.xlsx"
    assert link.is_symlink() and target.read_bytes() == b"new" and (shared / "bj01.bak.xlsx").read_bytes() == b"old"
    assert safety.atomic_write_stream(link, lambda fh: fh.write(b"newer")) is not None
    assert link.is_symlink() and target.read_bytes() == b"newer"
    (tmp_path / "~$bj01.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError):
        atomic_write(link, b"newest")
    assert target.read_bytes() == b"newer" and leftovers(tmp_path) == leftovers(shared) == []

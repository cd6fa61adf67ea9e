"""Refuse to overwrite a workbook that is open or has changed, and replace it atomically.

Just over 400 lines: the checks before a save and the swap they guard are one protocol, kept in one file.

Registers live on shared folders and clerks keep them open in Excel or WPS. Writing
under an open workbook means the clerk's next save silently discards ours (or ours
theirs), and a half-written file is worse than none. So: write a temp file in the same
folder and fsync it, look for the owner/lock file, compare against the stamp taken when we
read the file, then swap the new file in without ever unlinking a file we have not checked
(``_swap_in``: the old file is moved aside, checked, and kept as the one backup).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.filekind import write_reason
from xlcomplaints.workbook.owners import TempKind, default_mode, move_exclusive, temp_file

__all__ = [
    "FileStamp",
    "SaveStep",
    "WorkbookChangedError",
    "WorkbookLockedError",
    "atomic_write",
    "atomic_write_stream",
    "backup_path",
    "check_writable",
    "lock_candidates",
    "read_with_stamp",
    "stamp_file",
]

_WINDOWS = os.name == "nt"


class WorkbookLockedError(Exception):
    """The workbook is open in Excel/WPS/LibreOffice (a lock file exists or Windows refuses)."""

    def __init__(self, path: str | os.PathLike[str], lock_path: Path | None) -> None:
        self.path = Path(path)
        self.lock_path = lock_path
        where = f" (lock file {lock_path.name})" if lock_path else ""
        super().__init__(f"workbook is open in another program: {self.path.name}{where}")


class WorkbookChangedError(Exception):
    """The file on disk is not the one we read: someone saved it in between."""

    def __init__(
        self, path: str | os.PathLike[str], expected: FileStamp | None, actual: FileStamp | None
    ) -> None:
        self.path = Path(path)
        self.expected = expected  # None: nothing was read (a new file), and something appeared meanwhile
        self.actual = actual  # None: the file was deleted or moved away
        state = "was removed" if actual is None else "changed"
        super().__init__(f"workbook {state} since it was read: {self.path.name}")


@dataclass(frozen=True)
class FileStamp:
    """Identity of a file's content when we read it; sha256 is what is compared."""

    size: int
    mtime_ns: int
    sha256: str


def stamp_file(path: str | os.PathLike[str]) -> FileStamp:
    """Stamp a file on disk (hashes it in chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return FileStamp(st.st_size, st.st_mtime_ns, digest.hexdigest())


def read_with_stamp(path: str | os.PathLike[str]) -> tuple[bytes, FileStamp]:
    """Read a file and stamp exactly the bytes read (so a later check compares like with like)."""
    with open(path, "rb") as fh:
        data = fh.read()
        st = os.fstat(fh.fileno())
    return data, FileStamp(len(data), st.st_mtime_ns, hashlib.sha256(data).hexdigest())


def lock_candidates(path: str | os.PathLike[str]) -> list[Path]:
    """Lock files that mean "open elsewhere", most likely first.

    Excel (and WPS) create "~$" + the full file name. Word instead overwrites the first
    two characters for stems of 8+ characters (one for 7), and some tools are said to do
    the same for workbooks, so those names count too. LibreOffice uses ".~lock.NAME#".
    """
    p = Path(path)
    name, stem = p.name, p.stem
    names = ["~$" + name]
    if len(stem) >= 8:
        names.append("~$" + name[2:])
    elif len(stem) == 7:
        names.append("~$" + name[1:])
    names.append(f".~lock.{name}#")
    return [p.with_name(n) for n in dict.fromkeys(names)]


def check_writable(path: str | os.PathLike[str], expected: FileStamp | None) -> None:
    """Raise WorkbookLockedError / WorkbookChangedError if writing ``path`` now is unsafe."""
    p = Path(path)
    for lock in lock_candidates(p):
        if lock.exists():
            raise WorkbookLockedError(p, lock)
    if expected is None:
        return
    try:
        actual = stamp_file(p)
    except FileNotFoundError:
        raise WorkbookChangedError(p, expected, None) from None
    if (actual.size, actual.sha256) != (expected.size, expected.sha256):
        raise WorkbookChangedError(p, expected, actual)


def backup_path(path: str | os.PathLike[str]) -> Path:
    """Where the previous version goes: book.xlsx -> book.bak.xlsx (still opens in Excel)."""
    p = Path(path)
    return p.with_name(f"{p.stem}.bak{p.suffix}")


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    expected: FileStamp | None = None,
    backup: bool = True,
) -> Path | None:
    """Replace ``path`` with ``data`` all-or-nothing; return the backup path, if one was made.

    Identical content is not rewritten (None is returned, mtime untouched), so a rerun that
    changes nothing never disturbs the file, its timestamp or a sync client.
    """
    p = _real(path)
    try:
        if p.stat().st_size == len(data) and p.read_bytes() == data:
            return None
    except FileNotFoundError:
        pass
    return atomic_write_stream(p, lambda fh: fh.write(data), expected=expected, backup=backup)


def _real(path: str | os.PathLike[str]) -> Path:
    """The file to replace: a symbolic link's target (replacing the link itself would leave the
    workbook it points to as it was), once no lock sits beside the link either."""
    p = Path(path)
    if not p.is_symlink():
        return p
    check_writable(p, None)  # Excel opened it through the link: its lock file is here
    return p.resolve()


def atomic_write_stream(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    expected: FileStamp | None = None,
    backup: bool = True,
) -> Path | None:
    """atomic_write for content too large to build in memory: ``write(fh)`` fills the temp file.

    Same guarantees: identical content is not rewritten (compared in chunks after writing,
    so even an open workbook is left alone when nothing would change), then the lock and
    changed-file checks, and the new file is put in place by ``_swap_in``. ``fh`` is seekable.
    """
    p = _real(path)
    tmp = temp_file(p, TempKind.NEW)
    try:
        with open(tmp, "r+b") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _step(SaveStep.WRITTEN)
        try:
            exists = True
            if _same_content(tmp, p):
                os.unlink(tmp)
                return None
        except FileNotFoundError:
            exists = False
        check_writable(p, expected)  # refused early, before anything is moved
        # mkstemp creates 0600; give the file the old file's mode (or the umask default).
        os.chmod(tmp, stat.S_IMODE(os.stat(p).st_mode) if exists else default_mode())
        _step(SaveStep.CHECKED)
        made = _swap_in(tmp, p, expected, backup and exists)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(p.parent)
    return made


def _same_content(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Byte-equal files, read a megabyte at a time (FileNotFoundError if b is missing)."""
    with open(b, "rb") as fb, open(a, "rb") as fa:
        if os.fstat(fa.fileno()).st_size != os.fstat(fb.fileno()).st_size:
            return False
        while chunk := fa.read(1 << 20):
            if chunk != fb.read(len(chunk)):
                return False
    return True


# ----------------------------------------------------------------------------- the swap
#
# Another program (Excel, WPS, a clerk's second refresh) may save the workbook at any moment,
# including between our "changed since read?" check and our replace. A plain check-then-
# ``os.replace`` destroys a save that lands in between: the replace unlinks whatever is at the
# name. No file system gives "replace only if it is still the file I read", so the swap never
# unlinks or overwrites a file it has not checked:
#
# 1. ``os.replace(p, aside)``: whatever is at ``p`` at that instant is moved, whole, to a
#    temporary name of ours (a rename keeps the file itself; nothing is copied or lost).
# 2. ``move_exclusive(tmp, p)``: the new file takes the name only if it is still empty. A save
#    that landed after step 1 holds the name: it stays, ours is dropped, "changed since read".
# 3. What was moved aside is compared with the stamp taken when the file was read. A save
#    that landed before step 1 is what was moved aside: ours is taken out again and that
#    save put back (if yet another save holds the name by then, it stays and the moved-aside
#    one is kept as the backup), and the run says "changed since read".
# 4. The moved-aside file, now known to be what was read, becomes ``NAME.bak.xlsx`` (a rename:
#    the backup is the very file that was replaced, its times and all) or is removed.
#
# A save landing after step 2 replaces ours: the other program's own doing, not our loss.
# Between steps 1 and 2 (two system calls) the name is empty: a program opening the file
# then is told it is not there and can try again; a run killed then leaves the workbook under
# its moved-aside name, which the next run puts back (``owners.clear_leftovers``) and says so.
#
# Windows: Excel holds an open workbook without FILE_SHARE_DELETE, so step 1 fails with a
# sharing violation before anything moved (read as "open in Excel"); ``os.rename`` there
# fails when the name exists, which is step 2's "only if empty" (MoveFileEx without
# MOVEFILE_REPLACE_EXISTING, atomic on NTFS and SMB). A file a program holds open with delete
# sharing can be moved aside on both systems; that program keeps its handle on the moved
# file, which is then the one compared in step 3.


class SaveStep(StrEnum):
    """The points of a save where a test may inject a rival save or a kill (``_step``)."""

    WRITTEN = "written"  # the new content is in its temporary file, fsynced
    CHECKED = "checked"  # lock files and the stamp checked
    ASIDE = "aside"  # the file in place moved aside; the name is empty
    INSTALLED = "installed"  # the new file has the name
    VERIFIED = "verified"  # what was moved aside is what was read


#: ``XLCOMPLAINTS_TEST_KILL_AT=<step>`` makes a save kill its own process (SIGKILL) at that step,
#: so the suite can prove a killed save leaves the old file or a complete new one.
KILL_AT_ENV = "XLCOMPLAINTS_TEST_KILL_AT"


def _kill_at(step: SaveStep) -> None:
    if os.environ.get(KILL_AT_ENV) == step.value:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


#: A seam for deterministic race tests: called at each ``SaveStep`` of a save.
_step: Callable[[SaveStep], None] = _kill_at


def _swap_in(tmp: Path, p: Path, expected: FileStamp | None, backup: bool) -> Path | None:
    """Put ``tmp`` in place of ``p`` (see the steps above); the backup's path, if one was made."""
    if expected is None and not backup:  # nothing was read and nothing is kept: a plain replace
        _replace(tmp, p)
        _step(SaveStep.INSTALLED)
        return None
    if not os.path.lexists(p):  # nothing there to move aside: take the name if it is still empty
        try:
            move_exclusive(tmp, p)
        except FileExistsError:
            raise WorkbookChangedError(p, expected, _stamp_or_none(p)) from None
        _step(SaveStep.INSTALLED)
        return None
    aside = temp_file(p, TempKind.OLD)
    ours = _identity(tmp)
    try:
        _replace(p, aside)  # step 1
    except BaseException:  # open in Excel (Windows), or gone: nothing moved, the placeholder goes
        with contextlib.suppress(OSError):
            aside.unlink()
        raise
    _step(SaveStep.ASIDE)
    try:
        move_exclusive(tmp, p)  # step 2
    except FileExistsError:
        _keep(aside, p)
        raise WorkbookChangedError(p, expected, _stamp_or_none(p)) from None
    except BaseException:
        _put_back(aside, p)
        raise
    _step(SaveStep.INSTALLED)
    if expected is not None:  # step 3
        found = stamp_file(aside)
        if (found.size, found.sha256) != (expected.size, expected.sha256):
            _undo(p, ours, aside)
            raise WorkbookChangedError(p, expected, found)
    _step(SaveStep.VERIFIED)
    if not backup:  # step 4
        os.unlink(aside)
        return None
    made = backup_path(p)
    try:
        os.replace(aside, made)
    except OSError:  # the backup is open in Excel, say: the save stands; the next run keeps it
        return None
    return made


def _undo(p: Path, ours: tuple[int, int], aside: Path) -> None:
    """Step 3 failed: take our file out of ``p`` again and put back the save we moved aside."""
    back = temp_file(p, TempKind.OLD)  # (not NEW: a kill now must not have it removed unseen, were it theirs)
    try:
        _replace(p, back)
    except FileNotFoundError:  # emptied by someone meanwhile
        back.unlink()
        _put_back(aside, p)
        return
    except BaseException:  # opened in Excel meanwhile (Windows): theirs stays aside, the next run keeps it
        with contextlib.suppress(OSError):
            back.unlink()
        raise
    if _identity(back) == ours:
        back.unlink()
        _put_back(aside, p)
    else:  # a save after ours: it is the newest, it goes back; the one before it is the backup
        _put_back(back, p)
        _keep(aside, p)


def _put_back(found: Path, p: Path) -> None:
    """Return ``found`` to ``p`` if the name is empty; else keep it as the backup."""
    try:
        move_exclusive(found, p)
    except FileExistsError:
        _keep(found, p)


def _keep(found: Path, p: Path) -> None:
    """Keep a file another program saved that cannot go back in place: as the backup."""
    os.replace(found, backup_path(p))


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _stamp_or_none(path: Path) -> FileStamp | None:
    try:
        return stamp_file(path)
    except OSError:
        return None


def _replace(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except PermissionError as exc:
        if _WINDOWS:  # Excel holds the workbook (src or dst) open with a deny-delete share mode
            raise WorkbookLockedError(src if src.suffix.lower() in (".xlsx", ".xlsm") else dst, None) from exc
        raise



def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); directories cannot be opened this way on Windows."""
    if _WINDOWS:
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def save_refusals(path: Path) -> Iterator[None]:
    """A save's failures as the refusals the user reads: open in Excel (its lock file), changed since
    read, or not writable. Every command that saves a workbook says them alike."""
    try:
        yield
    except WorkbookLockedError as e:
        lock = Path(e.lock_path).name if e.lock_path else "(Windows sharing lock)"
        raise WorkbookError("file.locked", path=path.name, lock=lock) from e
    except WorkbookChangedError as e:
        raise WorkbookError("file.changed", path=path.name) from e
    except OSError as e:
        raise WorkbookError("file.write_failed", path=str(path), **write_reason(e)) from e

"""Refuse to overwrite a workbook that is open or has changed, and replace it atomically.

Registers live on shared folders and clerks keep them open in Excel or WPS. Writing
under an open workbook means the clerk's next save silently discards ours (or ours
theirs), and a half-written file is worse than none. So: look for the owner/lock file,
compare against the stamp taken when we read the file, write a temp file in the same
folder, fsync, keep one backup, and ``os.replace`` over the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "FileStamp",
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
        self, path: str | os.PathLike[str], expected: FileStamp, actual: FileStamp | None
    ) -> None:
        self.path = Path(path)
        self.expected = expected
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
        exists = True
    except FileNotFoundError:
        exists = False
    made = _check_and_back_up(p, exists, expected, backup)
    _replace_with(p, lambda tmp: Path(tmp).write_bytes(data), mode_of=p if exists else None)
    return made


def _real(path: str | os.PathLike[str]) -> Path:
    """The file to replace: a symbolic link's target (replacing the link itself would leave the
    workbook it points to as it was), once no lock sits beside the link either."""
    p = Path(path)
    if not p.is_symlink():
        return p
    check_writable(p, None)  # Excel opened it through the link: its lock file is here
    return p.resolve()


def _check_and_back_up(p: Path, exists: bool, expected: FileStamp | None, backup: bool) -> Path | None:
    """The checks before any replace (lock, changed since read), then the one backup."""
    check_writable(p, expected)
    if not (exists and backup):
        return None
    made = backup_path(p)
    _replace_with(made, lambda tmp: shutil.copy2(p, tmp), mode_of=p)
    return made


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
    changed-file checks, one backup, fsync and ``os.replace``. ``fh`` is seekable.
    """
    p = _real(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh)
        try:
            exists = True
            if _same_content(tmp, p):
                os.unlink(tmp)
                return None
        except FileNotFoundError:
            exists = False
        made = _check_and_back_up(p, exists, expected, backup)
        _commit(tmp, p, mode_of=p if exists else None)
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


def _replace_with(target: Path, fill: Callable[[str], object], *, mode_of: Path | None) -> None:
    """Write a sibling temp file via ``fill(tmp_path)``, fsync it, then os.replace it over target."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        fill(tmp)
        _commit(tmp, target, mode_of=mode_of)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _commit(tmp: str, target: Path, *, mode_of: Path | None) -> None:
    """Give a filled temp file its mode, fsync it and move it over target."""
    # mkstemp creates 0600; give the file the old file's mode (or the umask default).
    os.chmod(tmp, stat.S_IMODE(os.stat(mode_of).st_mode) if mode_of else _default_mode())
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    try:
        os.replace(tmp, target)
    except PermissionError as exc:
        if _WINDOWS:  # Excel holds the file open with a deny-write share mode
            raise WorkbookLockedError(target, None) from exc
        raise


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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

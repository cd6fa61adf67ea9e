"""Files a run leaves beside a workbook — temporaries and locks — named after the run that made them.

A save writes the new workbook to a temporary file beside it and moves the old one aside
under a temporary name before the new one goes in (``safety.py``); a consolidation holds
its output with a lock file. Each name carries the run that made it: a tag of its host and
its process id. So a later run tells a file left by a run that was killed (no such process
on this host any more) from one a live run is still writing, removes the first, puts a
workbook that was moved aside back if a kill left its name empty, and says so; it never
touches a live run's files.

    .NAME.xlsx.new-<host>-<pid>-XXXXXXXX.tmp    the new content, written before it goes in
    .NAME.xlsx.old-<host>-<pid>-XXXXXXXX.tmp    the file that was at NAME.xlsx, moved aside
    .NAME.xlsx.lock                           a consolidation writing NAME.xlsx (JSON: host, pid, since)
    .NAME.facts.lock                          a consolidation writing the facts store NAME.facts (and its report)

Such files hold a whole register (customer names and phone numbers), mode 0600.
A run on another host cannot be asked whether it lives: its files are left alone for a day
(``STALE_AFTER``), longer than any run takes. A process id taken by a new process since
makes an old file look live: it is left alone, never the other way round. Names from
versions before these tags (``.NAME.xlsx.XXXXXXXX.tmp``) are ours too, and treated as
from another host.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["STALE_AFTER", "Leftover", "LeftoverAction", "OutputLock", "OutputLockedError", "TempKind",
           "clear_leftovers", "default_mode", "move_exclusive", "temp_file"]

#: Seconds after which a file left by a run on another host (or of an older version) counts as left behind.
STALE_AFTER = 24 * 3600
_WINDOWS = os.name == "nt"


class TempKind(StrEnum):
    NEW = "new"  # the content being written
    OLD = "old"  # the file that was in place, moved aside while the new one goes in


class LeftoverAction(StrEnum):
    """What a run did with a file an earlier, killed run left; each value is its message's code."""

    REMOVED = "file.leftover_removed"
    RESTORED = "file.leftover_restored"  # the workbook had been moved aside and its name left empty
    KEPT_AS_BACKUP = "file.leftover_kept"


@dataclass(frozen=True)
class Leftover:
    name: str  # the leftover's file name
    action: LeftoverAction
    target: str  # the file it belonged to

    def message(self, lang: str = "zh") -> str:
        from xlcomplaints.workbook.errors import WorkbookError

        return WorkbookError(self.action.value, name=self.name, target=self.target).message(lang)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _owner() -> str:
    return f"{_host_tag()}-{os.getpid()}"  # at each call: a forked child is its own owner


def default_mode() -> int:
    """The mode a new file gets from the umask (temporary files are 0600 until they take a name)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temp_file(target: Path, kind: TempKind) -> Path:
    """Create an empty, private (0600) temporary file beside ``target``, named after this run."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{kind.value}-{_owner()}-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(name)


def _pattern(target_name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(target_name)}\.(?:(?P<kind>new|old)-(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-)?"
                      r"[a-z0-9_]{8}\.tmp$")


def _alive(host: str | None, pid: int | None, mtime: float) -> bool:
    """Whether the run that named a file may still be running (unknown: only if it is recent)."""
    if host == _host_tag() and pid is not None:
        return pid == os.getpid() or _pid_alive(pid)
    return time.time() - mtime < STALE_AFTER  # another host, or a name without its run


def _pid_alive(pid: int) -> bool:
    if _WINDOWS:  # os.kill(pid, 0) would send Ctrl-C there: ask for the process instead
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        return True
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = ctypes.c_ulong()
        return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def move_exclusive(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` only if nothing is at ``dst``; FileExistsError otherwise, src untouched.

    The only "replace if" the file systems give us: the name is created or the call fails, in
    one step. POSIX: a hard link (fails with EEXIST), then the temporary name dropped. Windows:
    ``os.rename`` (MoveFileEx without MOVEFILE_REPLACE_EXISTING) fails if the name exists.
    File systems without hard links (some network shares, FAT) fall back to look-then-rename,
    the one place a save landing in between could still be replaced.
    """
    if _WINDOWS:
        os.rename(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "File exists", str(dst)) from None
        os.rename(src, dst)
        return
    os.unlink(src)


def clear_leftovers(target: Path, backup: Path | None = None) -> list[Leftover]:
    """Remove what killed runs left beside ``target``; put a workbook they moved aside back.

    A file moved aside (``old``) whose name is empty again goes back in place; one whose
    name is taken (the kill came after the new file went in) becomes the backup when it
    is newer than the backup there is, or when there is none and ``backup`` is given, and is
    removed otherwise (the backup, or the file in place, is the later version).
    """
    pattern = _pattern(target.name)
    done: list[Leftover] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return done
    for entry in sorted(entries, key=lambda e: e.name):
        m = pattern.match(entry.name)
        if not m:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            pid = int(m["pid"]) if m["pid"] else None
            if _alive(m["host"], pid, st.st_mtime):
                continue
            action = _settle(Path(entry.path), target, backup, st.st_mtime, old=m["kind"] == TempKind.OLD)
        except OSError:  # gone meanwhile, or the folder cannot be written: left for another time
            continue
        done.append(Leftover(entry.name, action, target.name))
    return done


def _settle(found: Path, target: Path, backup: Path | None, mtime: float, *, old: bool) -> LeftoverAction:
    if old and not os.path.lexists(target):
        try:
            move_exclusive(found, target)
            return LeftoverAction.RESTORED
        except FileExistsError:
            pass
    if old and backup is not None and (not backup.exists() or backup.stat().st_mtime <= mtime):
        with contextlib.suppress(FileNotFoundError):
            if os.path.samefile(found, target):  # a second name of the workbook itself
                found.unlink()
                return LeftoverAction.REMOVED
        os.replace(found, backup)
        return LeftoverAction.KEPT_AS_BACKUP
    found.unlink()
    return LeftoverAction.REMOVED


class OutputLockedError(Exception):
    """Another run holds the output (its lock file exists and its process is alive)."""

    def __init__(self, lock: Path, holder: dict[str, object]) -> None:
        super().__init__(f"{lock.name} is held by {holder}")
        self.lock = lock
        self.holder = holder


class OutputLock:
    """``.NAME.lock`` beside an output, created with O_EXCL and removed when the run is done.

    A lock left by a killed run on this host (its pid gone) is taken over, and ``taken_over``
    says whose it was; a live run's, or another host's younger than ``STALE_AFTER``, refuses.
    """

    def __init__(self, output: Path, about: str | None = None) -> None:
        self.path = output.with_name(f".{output.name}.lock")
        self.about = about  # what the run writes, for another run refused by the lock to be told ("report")
        self.taken_over: dict[str, object] | None = None
        self._mtime, self._text = 0.0, ""  # the found lock's
        self._mine = ""

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        me: dict[str, object] = {"host": _host_tag(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        if self.about is not None:
            me["report"] = self.about
        for _ in range(3):  # a stale lock removed, then created again: never more than a few turns
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is None:
                    continue  # removed meanwhile
                host = holder.get("host")
                if _alive(host if isinstance(host, str) else None, _int(holder.get("pid")), self._mtime):
                    raise OutputLockedError(self.path, holder) from None
                self._take_over(holder)
                continue
            self._mine = json.dumps(me)
            with os.fdopen(fd, "w") as fh:
                fh.write(self._mine)
            return
        raise OutputLockedError(self.path, self._holder() or {})

    def _take_over(self, stale: dict[str, object]) -> None:
        """Remove the stale lock judged, and only it: it is renamed first, and should another run
        have replaced it meanwhile by a lock of its own, that one is put back and this run refused."""
        grabbed = self.path.with_name(f"{self.path.name}.{_owner()}.stale")
        try:
            os.replace(self.path, grabbed)
        except FileNotFoundError:
            return
        if grabbed.read_text(encoding="utf-8", errors="replace") != self._text:
            with contextlib.suppress(OSError):
                move_exclusive(grabbed, self.path)
            raise OutputLockedError(self.path, self._holder() or {})
        grabbed.unlink()
        self.taken_over = stale

    def _holder(self) -> dict[str, object] | None:
        try:
            self._mtime = self.path.stat().st_mtime
            self._text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None
        try:
            found = json.loads(self._text)
        except ValueError:  # cut short as it was written: whose it is cannot be told
            found = {}
        return found if isinstance(found, dict) else {}

    def held_by(self) -> dict[str, object] | None:
        """Who holds the lock, when a run that may still be running does (its host, pid, since); None when it is
        free or left by a run that was killed (as ``acquire`` judges). Only reads: a reader of what the holder
        writes (head office reading a region's store) asks, and waits or goes on."""
        holder = self._holder()
        if holder is None:
            return None
        host = holder.get("host")
        return holder if _alive(host if isinstance(host, str) else None, _int(holder.get("pid")), self._mtime) else None

    def release(self) -> None:
        """Remove the lock if it is still this run's."""
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="utf-8", errors="replace") == self._mine:
                self.path.unlink()


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None

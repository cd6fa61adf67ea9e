"""What the head office checks around sending a file to a worker, so that "not found" says where.

A worker (a process of this machine's pool, or a Dask worker on another PC) opens a file by the
path it is sent. Before a file is sent, the head office looks at it itself (``here``): a file
missing on the head office's own machine is said as today (``file.missing``…) and never sent.
Files are sent by their absolute path (``sent_as``): the head office's working folder means
nothing to a worker on another PC. A worker that then finds no file at that path, while the head
office still sees it (``as_seen_here``), cannot see the head office's files (another PC without
the shared folder, or the folder mapped elsewhere there): that is said as such, naming the
worker's machine, never as if the file were missing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.report.file_summary import FileSummary
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.filekind import NotAFile, require_file


class Dispatch(StrEnum):
    """What the head office says of a worker's reading; each value is the code of its words."""

    WORKER_CANNOT_OPEN = "report.worker_cannot_open"


register_messages({
    Dispatch.WORKER_CANNOT_OPEN.value: (
        "{host} 上的工作进程打不开 {path}（路径 {sent}），而汇总的这台电脑能打开它。请让每台工作电脑以同一路径访问这些文件"
        "（共享文件夹，每台电脑映射到同一盘符或使用同一网络路径），本文件未计入。",
        "The worker on {host} cannot open {path} (path {sent}), which the computer consolidating can open; give "
        "every worker the same path to the files (a shared folder, mapped to the same drive or reached by the "
        "same network path on every PC). The file is left out."),
})

#: What a worker says of a path it finds nothing at: the codes ``as_seen_here`` looks into.
NOT_THERE = frozenset({NotAFile.MISSING.value, NotAFile.DANGLING_LINK.value})


def worker_host() -> str:
    """The name of the machine a worker runs on, for the words of a file it cannot see."""
    return socket.gethostname() or "?"


def sent_as(path: Path) -> str:
    """The path a worker is sent: absolute, as the head office sees it (not resolved: a mapped
    drive or a shared folder's name stays as written, for the worker to reach the same way)."""
    return os.path.abspath(path)


def here(path: Path, label: str) -> FileSummary | None:
    """The file's summary if the head office cannot use it itself (missing, a folder, a dangling
    link…, found without opening it): it is not sent. None for a file to send."""
    try:
        require_file(path)
    except WorkbookError as e:
        return FileSummary(str(path), 0.0, error=Problem(level=Level.ERROR, code=e.code, file=label,
                                                          params={**e.params, "path": label}), label=label)
    return None


def as_seen_here(summary: FileSummary, path: Path) -> FileSummary:
    """A worker's summary with the path given back as the head office wrote it; a file the worker
    found nothing at while the head office still sees it is the worker's blindness, said as such
    (one removed meanwhile is missing here too, and keeps the worker's words)."""
    if summary.path != str(path):
        summary = replace(summary, path=str(path))
    e = summary.error
    if e is None or e.code not in NOT_THERE or here(path, summary.name) is not None:
        return summary
    params = {"path": e.params.get("path", summary.name), "host": e.params.get("host", "?"),
              "sent": e.params.get("sent", sent_as(path))}
    return replace(summary, error=Problem(level=Level.ERROR, code=Dispatch.WORKER_CANNOT_OPEN.value, file=e.file,
                                          params=params))

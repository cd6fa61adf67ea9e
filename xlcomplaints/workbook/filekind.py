"""What a path is, found without opening it: a workbook must be a regular file.

A FIFO opened for reading waits for a writer that may never come, a device may never end,
and a symbolic link may point nowhere or at itself. Each is named for what it is, with
``os.stat`` alone (no ``open``), so the one who gave it knows what to fix.
"""

from __future__ import annotations

import errno
import os
import stat
from enum import StrEnum
from pathlib import Path

from xlcomplaints.core.problems import register_messages
from xlcomplaints.workbook.errors import WorkbookError


class NotAFile(StrEnum):
    """Why a path is not a workbook file; each value is the code of its message."""

    MISSING = "file.missing"
    FOLDER = "file.is_folder"
    DANGLING_LINK = "file.link_dangling"
    LINK_LOOP = "file.link_loop"
    FIFO = "file.fifo"
    DEVICE = "file.device"
    SOCKET = "file.socket"
    UNREADABLE = "file.unreadable"


MESSAGES = {
    NotAFile.DANGLING_LINK: ("{path} 是快捷方式（符号链接），但它指向的 {target} 不存在，已跳过。",
                             "{path} is a symbolic link to {target}, which does not exist; it is passed over."),
    NotAFile.LINK_LOOP: ("{path} 是循环的快捷方式（符号链接最终指回自己），不指向任何文件，已跳过。",
                         "{path} is a symbolic link that loops back on itself and leads to no file; it is passed "
                         "over."),
    NotAFile.FIFO: ("{path} 是命名管道（FIFO），不是工作簿文件，未读取。",
                    "{path} is a named pipe (FIFO), not a workbook file; it was not read."),
    NotAFile.DEVICE: ("{path} 是设备文件，不是工作簿文件，未读取。",
                      "{path} is a device, not a workbook file; it was not read."),
    NotAFile.SOCKET: ("{path} 是套接字（socket），不是工作簿文件，未读取。",
                      "{path} is a socket, not a workbook file; it was not read."),
    NotAFile.UNREADABLE: ("无法读取 {path}：{reason_zh}。", "Cannot read {path}: {reason_en}."),
}
register_messages({str(k): v for k, v in MESSAGES.items()})

#: Why the system refused to read a file, by its errno, in the user's words (``os_reason``).
REASONS: dict[int, tuple[str, str]] = {
    errno.ENAMETOOLONG: ("文件名或路径过长", "its name or path is too long"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "a part of its path is not a folder"),
    errno.EACCES: ("没有读取权限，或文件正被其他程序独占打开", "permission is denied, or another program holds it open"),
    errno.EPERM: ("没有读取权限，或文件正被其他程序独占打开", "permission is denied, or another program holds it open"),
    errno.EIO: ("读取时磁盘或网络出错", "the disk or the network failed while it was read"),
    errno.ENOENT: ("文件已不在原处", "it is no longer there"),
}
OTHER_REASON = ("系统拒绝读取", "the system refused to read it")
register_messages({"file.os_raw": ("【原始信息，供维护人员：{raw}】", " [raw detail, for maintainers: {raw}]")})


#: Why the system refused a write (the report, its store, a saved workbook), by its errno (``write_reason``).
WRITE_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("磁盘空间不足", "the disk is full"),
    errno.EDQUOT: ("超出了磁盘配额", "the disk quota is used up"),
    errno.EROFS: ("磁盘或文件夹是只读的", "the disk or folder is read-only"),
    errno.EACCES: ("没有写入权限，或文件正被其他程序独占打开", "permission is denied, or another program holds the file open"),
    errno.EPERM: ("没有写入权限，或文件正被其他程序独占打开", "permission is denied, or another program holds the file open"),
    errno.ENAMETOOLONG: REASONS[errno.ENAMETOOLONG],  # the same words as a read's
    errno.ENOTDIR: REASONS[errno.ENOTDIR],
    errno.ENOENT: ("文件夹已不在原处", "its folder is no longer there"),
    errno.EIO: ("写入时磁盘或网络出错", "the disk or the network failed while it was written"),
}
OTHER_WRITE_REASON = ("系统拒绝写入", "the system refused the write")


def os_reason(e: OSError, reasons: dict[int, tuple[str, str]] = REASONS,
              other: tuple[str, str] = OTHER_REASON) -> dict[str, str]:
    """``reason_zh``, ``reason_en`` (the system's refusal in the user's words; its own words follow, marked, only when
    its errno is not one of ours) and ``detail`` (its own words, for a maintainer): the parameters of a refusal to
    read (``reasons``: ``WRITE_REASONS`` for a write, ``write_reason``)."""
    from xlcomplaints.i18n import render

    raw = f"[Errno {e.errno}] {e.strerror or type(e).__name__}"
    zh, en = reasons.get(e.errno or -1, other)
    if e.errno not in reasons:
        zh, en = zh + render("file.os_raw", "zh", {"raw": raw}), en + render("file.os_raw", "en", {"raw": raw})
    return {"reason_zh": zh, "reason_en": en, "detail": raw}


def what_is(path: str | os.PathLike[str]) -> NotAFile | None:
    """None for a regular file (or a link to one); else what the path is instead. Never opens it."""
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        return NotAFile.DANGLING_LINK if p.is_symlink() else NotAFile.MISSING
    except OSError as e:
        if e.errno == errno.ELOOP:
            return NotAFile.LINK_LOOP
        return NotAFile.UNREADABLE
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return NotAFile.FOLDER
    if stat.S_ISFIFO(mode):
        return NotAFile.FIFO
    if stat.S_ISSOCK(mode):
        return NotAFile.SOCKET
    return NotAFile.DEVICE  # character or block device (or a kind this system has of its own)


def require_file(path: str | os.PathLike[str]) -> None:
    """Raise a WorkbookError naming what the path is, unless it is a regular file."""
    kind = what_is(path)
    if kind is None:
        return
    params: dict[str, str] = {"path": str(path)}
    if kind is NotAFile.DANGLING_LINK:
        params["target"] = os.readlink(path)
    elif kind is NotAFile.UNREADABLE:
        try:
            os.stat(path)
        except OSError as e:
            params.update(os_reason(e))
    raise WorkbookError(kind, **params)


def write_reason(e: OSError) -> dict[str, str]:
    """``os_reason`` of a refused write: ``reason_zh``, ``reason_en`` and ``detail``."""
    return os_reason(e, WRITE_REASONS, OTHER_WRITE_REASON)

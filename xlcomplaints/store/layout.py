"""Where a report's facts store is: the folder ``NAME.facts`` beside the report ``NAME.xlsx``, holding
``manifest.json`` (``report.facts`` writes and reads the rest), or in the folder ``--store`` names.

``--store`` (``store_location``) is a folder every Dask worker and the head office reach by the same path
(a shared folder, ``\\\\fileserver\\facts`` or a drive mapped alike on every PC) or a ``file://`` URL of
one (read with fsspec, the ``distributed`` extra). The store there keeps the report's name: one shared
folder holds the stores of many reports (``group-2026-10.facts``, ``group-2026-11.facts``). Other URLs
(``s3://``…) are refused as such: an object store has no rename for the head office's commit yet.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from xlcomplaints.core.problems import register_messages
from xlcomplaints.errors import XlcError

STORE_SUFFIX = ".facts"
MANIFEST = "manifest.json"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")  # two letters at least: ``C:\`` is a drive, not a scheme


class Location(StrEnum):
    """Why a ``--store`` location cannot be used; each value is the code of its words."""

    NEEDS_FSSPEC = "store.needs_fsspec"
    NOT_A_FOLDER_URL = "store.not_a_folder_url"
    NO_FOLDER = "store.no_folder"


register_messages({
    Location.NEEDS_FSSPEC.value: (
        "--store {location} 是网址，需要 fsspec，本机没有安装：请运行 pip install \"xlcomplaints[distributed]\"，"
        "或给出文件夹路径。未读取任何文件，未写出报表。",
        "--store {location} is a URL, which needs fsspec, not installed here: run pip install "
        "\"xlcomplaints[distributed]\", or give a folder's path. No file was read and no report written."),
    Location.NOT_A_FOLDER_URL.value: (
        "--store {location}：汇总数据目录须是文件夹（共享文件夹或 file:// 网址），暂不支持 {scheme}:// 这类对象存储。"
        "未读取任何文件，未写出报表。",
        "--store {location}: the facts store must be a folder (a shared folder or a file:// URL); object stores "
        "such as {scheme}:// are not supported yet. No file was read and no report written."),
    Location.NO_FOLDER.value: (
        "--store 给出的文件夹 {location} 不存在（或不是文件夹）。未读取任何文件，未写出报表。",
        "--store {location}: there is no such folder. No file was read and no report written."),
})


class StoreLocationError(XlcError):
    """A ``--store`` that cannot be used: said before any file is read (exit 2)."""


def store_location(text: str | Path) -> Path:
    """The folder ``--store`` names, absolute as this PC writes it (not resolved: a mapped drive or a
    share's name stays as written, for the workers to reach the same way); it must exist (as ``-o``'s
    folder must). Raises ``StoreLocationError``."""
    given = str(text)
    folder = Path(os.path.abspath(given)) if not _URL.match(given) else _local(given)
    if not folder.is_dir():
        raise StoreLocationError(Location.NO_FOLDER.value, location=given)
    return folder


def _local(given: str) -> Path:
    """The local folder of a URL (``file://``), through fsspec; other URLs are refused."""
    try:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem
    except ImportError as e:
        raise StoreLocationError(Location.NEEDS_FSSPEC.value, location=given) from e
    scheme = given.split("://", 1)[0].lower()
    try:
        fs, path = url_to_fs(given)
    except (ImportError, ValueError) as e:  # a protocol fsspec does not know, or one whose package is missing
        raise StoreLocationError(Location.NOT_A_FOLDER_URL.value, location=given, scheme=scheme) from e
    if not isinstance(fs, LocalFileSystem):
        raise StoreLocationError(Location.NOT_A_FOLDER_URL.value, location=given, scheme=scheme)
    return Path(os.path.abspath(path))


def store_path(output: str | Path, where: str | Path | None = None) -> Path:
    """The store of the report ``output``: ``group-2026-10.facts`` beside ``group-2026-10.xlsx``, or in the
    folder ``where`` (``--store``, made absolute by ``store_location``)."""
    p = Path(output)
    name = f"{p.stem}{STORE_SUFFIX}"
    return Path(where) / name if where is not None else p.with_name(name)


def is_store(folder: Path) -> bool:
    """Whether ``folder`` is a facts store (its name, and its manifest or a run's staging folder in it)."""
    return folder.name.endswith(STORE_SUFFIX) and os.path.isdir(folder) and (  # os.path: never raises
        os.path.isfile(folder / MANIFEST) or any(p.name.startswith(".staging-") for p in folder.iterdir()))

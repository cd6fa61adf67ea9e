"""Where a report's facts store is: the folder ``NAME.facts`` beside the report ``NAME.xlsx``, holding
``manifest.json`` (``report.facts`` writes and reads the rest)."""

from __future__ import annotations

from pathlib import Path

STORE_SUFFIX = ".facts"
MANIFEST = "manifest.json"


def store_path(output: str | Path) -> Path:
    """The store of the report ``output``: ``group-2026-10.facts`` beside ``group-2026-10.xlsx``."""
    p = Path(output)
    return p.with_name(f"{p.stem}{STORE_SUFFIX}")


def is_store(folder: Path) -> bool:
    """Whether ``folder`` is a facts store (its name, and its manifest or a run's staging folder in it)."""
    return folder.name.endswith(STORE_SUFFIX) and folder.is_dir() and (
        (folder / MANIFEST).is_file() or any(p.name.startswith(".staging-") for p in folder.iterdir()))

"""The Python API: the same operations as the command line, on file paths.

    >>> import xlcomplaints as xc
    >>> xc.new_workbook("bj01.xlsx", branch_code="BJ01", branch_name="北京一店")
    >>> problems = xc.validate("bj01.xlsx")
    >>> result = xc.refresh("bj01.xlsx", now=datetime(2026, 11, 22, 9))

Whole-file problems raise ``WorkbookError`` (``.message(lang)`` says why); cell problems
come back as ``Problem`` objects.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from xlcomplaints.core.models import Settings
from xlcomplaints.core.problems import Problem
from xlcomplaints.flows import FlowResult, assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.templates.build import build_branch_workbook
from xlcomplaints.workbook.file import FileWorkbook


def new_workbook(path: str | Path, *, branch_code: str, branch_name: str = "", lang: str = "zh",
                 overwrite: bool = False) -> Path:
    """A new branch workbook from the current template, with this branch's settings."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    settings = Settings(branch_code=branch_code, branch_name=branch_name, language=lang)
    build_branch_workbook(path, lang=lang, settings=settings, created=None)
    return path


def validate(path: str | Path, *, now: datetime | None = None, lang: str = "zh") -> list[Problem]:
    return validate_flow(FileWorkbook(path), now=now or datetime.now(), lang=lang).problems


def refresh(path: str | Path, *, now: datetime | None = None, lang: str = "zh",
            policy: str | Path | None = None) -> FlowResult:
    """Deadlines and statuses; ``policy`` is a head office's TOML rules file replacing the workbook's."""
    from xlcomplaints.core.policy import load_policy_file

    rules = load_policy_file(policy, lang) if policy else None
    return refresh_flow(FileWorkbook(path), now=now or datetime.now(), lang=lang, policy=rules)


def assign_ids(path: str | Path, *, now: datetime | None = None, lang: str = "zh") -> FlowResult:
    return assign_ids_flow(FileWorkbook(path), now=now or datetime.now(), lang=lang)

"""The Python API clears what killed runs left beside a workbook, as the command line does, and says so."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import type_rows
from tests.test_save_races import dead_pid, left_by
from xlcomplaints import api
from xlcomplaints.workbook.owners import Leftover, LeftoverAction, TempKind

NOW = datetime(2026, 11, 22, 9)


@pytest.mark.parametrize("operation", [api.refresh, api.assign_ids])
def test_a_killed_runs_temporary_with_customer_data_is_removed_and_reported(tmp_path: Path, operation: object) -> None:
    path = tmp_path / "bj01.xlsx"
    api.new_workbook(path, branch_code="BJ01")
    type_rows(path, "register", [{"received_at": "2026-11-20 09:00", "channel": "电话", "customer": "张三",
                                  "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    left = left_by(dead_pid(), path, TempKind.NEW, b"a whole register: names and phone numbers")
    result = operation(path, now=NOW)  # type: ignore[operator]
    assert result.tidied == [Leftover(left.name, LeftoverAction.REMOVED, path.name)]
    assert not left.exists()
    again = operation(path, now=NOW)  # type: ignore[operator]
    assert again.tidied == []

"""The cycle collector is paused while a flow's records pile up, and left as it was found afterwards."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from xlcomplaints.collector import collector_paused
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 10, 9, 9, 0)
ROWS = [{"no": "BJ01-2610-001", "received_at": datetime(2026, 10, 8, 10), "channel": "电话", "customer": "张三",
         "category": "设施设备", "severity": "一般", "validity": "有效", "content": "电梯经常停运"}]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_running_after(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a flow inside a report's pause: still paused when it ends
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_running_again_after_a_refusal(collector_on: None) -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_flows_leave_the_collector_running(branch: Callable[..., Path], collector_on: None) -> None:
    path = branch(register=ROWS)
    validate_flow(FileWorkbook(path), now=NOW)
    assert gc.isenabled()
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None and result.plan.complaints == 1
    assert gc.isenabled()

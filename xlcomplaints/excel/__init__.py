"""Excel integration: the xlwings adapter of the workbook port, the button entry points,
the VBA sources and the vbaProject.bin writer. xlwings is imported only when used."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlcomplaints.excel.adapter import XlwingsWorkbook

__all__ = ["XlwingsWorkbook"]


def __getattr__(name: str) -> object:
    if name == "XlwingsWorkbook":
        from xlcomplaints.excel.adapter import XlwingsWorkbook

        return XlwingsWorkbook
    raise AttributeError(name)

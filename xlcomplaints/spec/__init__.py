"""Declarative sheet specs: the single source of truth for every sheet we make or read."""

from xlcomplaints.spec.branch import BRANCH_SHEETS, BRANCH_TEMPLATE_KIND, BRANCH_TEMPLATE_VERSION
from xlcomplaints.spec.model import ColType, Column, Field, SheetSpec
from xlcomplaints.spec.report import REPORT_SHEETS, REPORT_TEMPLATE_KIND, REPORT_TEMPLATE_VERSION

#: What each kind of workbook is called in messages (zh, en).
TEMPLATE_NAMES: dict[str, tuple[str, str]] = {
    BRANCH_TEMPLATE_KIND: ("网点工作簿", "branch workbook"),
    REPORT_TEMPLATE_KIND: ("月报表", "monthly report"),
}

__all__ = [
    "BRANCH_SHEETS", "BRANCH_TEMPLATE_KIND", "BRANCH_TEMPLATE_VERSION", "Column", "ColType",
    "Field", "REPORT_SHEETS", "REPORT_TEMPLATE_KIND", "REPORT_TEMPLATE_VERSION", "SheetSpec", "TEMPLATE_NAMES",
]

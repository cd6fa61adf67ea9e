"""xlcomplaints: complaint registers in Excel, validated and kept up to date.

Layout: ``spec`` (one declarative spec per sheet), ``core`` (pure rules: parsing,
calendar, deadlines, lifecycle, validation, metrics), ``templates`` (workbooks built
from the specs), ``workbook`` (file I/O that loses nothing), ``excel`` (buttons in
Excel through xlwings), ``report`` (the monthly report), ``form`` (the handling form), ``cli``.
"""

from xlcomplaints.api import (
    assign_ids,
    consolidate,
    handling_form,
    monthly_report,
    new_workbook,
    refresh,
    validate,
)

__version__ = "0.1.0"
__all__ = ["assign_ids", "consolidate", "handling_form", "monthly_report", "new_workbook", "refresh", "validate"]

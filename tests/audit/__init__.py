"""An independent auditor of the monthly report (issue 16, "Proof").

It re-reads the branch workbooks' input columns with openpyxl and recomputes each figure
from the words of the report's Definitions sheet, docs/sheets.md and the rules the lead
decided for issue 16 (R1–R9 in ``figures``). It imports nothing from ``xlcomplaints``:
the vocabularies come from docs/sheets.md, the calendar from the ``holidays`` package.
"""

"""The Problems sheet (校验结果) the Excel buttons write into a branch workbook, and the
hidden name of the status cell they report in.

Its columns are also every other list of problems: the report's Issues sheet (with the
file in front) and the table the command line prints.
"""

from __future__ import annotations

from xlcomplaints.spec.model import ColType, Column, SheetSpec

#: Workbook-scope hidden name pointing at the cell where buttons report what they did
#: (defined by templates/macro.py, read by excel/entry.py).
STATUS_NAME = "xlcomplaints.status"

PROBLEMS = SheetSpec(
    kind="problems",
    version="1.0.0",
    zh="校验结果",
    en="Problems",
    owned=True,
    freeze_cols=0,
    description_zh="由按钮生成，请勿手工修改。点“单元格”列可跳到出问题的单元格。",
    description_en="Written by the buttons; do not edit. Click a Cell to jump to it.",
    columns=(
        Column("level", "级别", "Level", ColType.TEXT, computed=True, width=8),
        Column("sheet", "工作表", "Sheet", ColType.TEXT, computed=True, width=14),
        # General, not Text: a HYPERLINK formula written into a Text cell would stay text.
        Column("cell", "单元格", "Cell", ColType.TEXT, computed=True, width=10, number_format="General"),
        Column("column", "列", "Column", ColType.TEXT, computed=True, width=18),
        Column("value", "值", "Value", ColType.TEXT, computed=True, width=22),
        Column("message", "问题", "Problem", ColType.LONGTEXT, computed=True, width=80),
    ),
)

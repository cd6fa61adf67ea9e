"""Turn a sheet's cell grid into records, locating every cell that cannot be read.

Pure: the grid comes from any adapter (calamine over a file, or xlwings). Headers are
found by label in zh or en, or by key, whatever row they sit on near the top and in
whatever order the office put the columns; the office's own columns are ignored.
"""

from xlcomplaints.core.rows.columns import _ALL_AS_IS as _ALL_AS_IS
from xlcomplaints.core.rows.columns import _AS_IS as _AS_IS
from xlcomplaints.core.rows.columns import _column as _column
from xlcomplaints.core.rows.columns import parse_cell
from xlcomplaints.core.rows.headers import (
    BY_LABEL,
    BY_SYNONYM,
    HEADER_MARKS,
    HEADER_MAX_CHARS,
    HEADER_SCAN_ROWS,
    MESSAGES,
    Layout,
    find_layout,
    header_keys,
    looked_for,
)
from xlcomplaints.core.rows.headers import _blank as _blank
from xlcomplaints.core.rows.headers import _unmarked as _unmarked
from xlcomplaints.core.rows.records import (
    BLOCK_ROWS,
    TOTAL_WORDS,
    TOTALS_COLUMNS,
    read_records,
    read_table,
)

# The private helpers above (``name as name``) are for ``core.settings`` and the tests.
__all__ = [
    "BLOCK_ROWS", "BY_LABEL", "BY_SYNONYM", "HEADER_MARKS", "HEADER_MAX_CHARS", "HEADER_SCAN_ROWS", "MESSAGES",
    "TOTALS_COLUMNS", "TOTAL_WORDS", "Layout", "find_layout", "header_keys", "looked_for",
    "parse_cell", "read_records", "read_table",
]

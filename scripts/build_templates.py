"""Build the committed templates in workbook_templates/, and docs/sheets.md, from the sheet specs.

Run after changing a spec: ``python scripts/build_templates.py``. The test suite
fails while a committed template or the sheet reference differs from what the specs build.
"""

from __future__ import annotations

import sys
from pathlib import Path

from xlcomplaints.templates.build import TEMPLATES
from xlcomplaints.templates.docs import sheets_markdown

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "workbook_templates"
DOCS = ROOT / "docs" / "sheets.md"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, build in TEMPLATES.items():
        build(OUT / name)
        print(f"wrote {OUT / name}")
    DOCS.write_text(sheets_markdown(), encoding="utf-8")
    print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

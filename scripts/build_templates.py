"""Build the committed templates in workbook_templates/ from the sheet specs.

Run after changing a spec: ``python scripts/build_templates.py``. The test suite
fails while a committed template differs from what its spec builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from xlcomplaints.templates.build import TEMPLATES

OUT = Path(__file__).resolve().parent.parent / "workbook_templates"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, build in TEMPLATES.items():
        build(OUT / name)
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

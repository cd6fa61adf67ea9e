"""Write docs/queries.md: each report figure's Definitions words next to the DuckDB query that computes it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlcomplaints.store.queries import document  # noqa: E402

if __name__ == "__main__":
    (ROOT / "docs" / "queries.md").write_text(document(), encoding="utf-8")

"""Complaint numbers from the workbook's pattern, e.g. ``{branch}-{yy}{mm}{seq:03}`` → BJ01-2611-007.

The serial counts within everything the pattern fixes before it (branch and month for
the default), continuing after the highest number already used, so existing numbers
are never changed and a new one never collides with an old one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from xlcomplaints.core.models import Complaint, Settings

TOKEN = re.compile(r"\{(branch|yyyy|yy|mm|dd|seq)(?::0?(\d+))?\}")


def _prefix_and_width(pattern: str, branch: str, when: datetime) -> tuple[str, str, int]:
    """Text before and after ``{seq}`` with the other tokens filled, and the serial's width."""
    values = {"branch": branch, "yyyy": f"{when:%Y}", "yy": f"{when:%y}", "mm": f"{when:%m}", "dd": f"{when:%d}"}
    width = 3
    parts = TOKEN.split(pattern)
    before: list[str] = []
    after: list[str] = []
    seen = False
    # TOKEN.split gives [text, name, width, text, name, width, ...]
    for i in range(0, len(parts), 3):
        (after if seen else before).append(parts[i])
        if i + 1 < len(parts):
            name, w = parts[i + 1], parts[i + 2]
            if name == "seq":
                seen, width = True, int(w) if w else 3
            else:
                (after if seen else before).append(values[name])
    return "".join(before), "".join(after), width


def assign_numbers(complaints: Sequence[Complaint], settings: Settings) -> dict[int, str]:
    """Row → new number, for complaints with a receipt time and no number."""
    used = {c.no for c in complaints if c.no}
    out: dict[int, str] = {}
    for c in sorted((c for c in complaints if not c.no and c.received_at and c.row),
                    key=lambda c: (c.received_at, c.row)):
        assert c.received_at is not None and c.row is not None
        prefix, suffix, width = _prefix_and_width(settings.number_pattern, settings.branch_code, c.received_at)
        pat = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + r"$")
        highest = max((int(m.group(1)) for n in used if (m := pat.match(n))), default=0)
        no = f"{prefix}{highest + 1:0{width}d}{suffix}"
        used.add(no)
        out[c.row] = no
    return out

"""The hidden stamp that tells our sheets apart from the office's own.

Stamps are hidden defined names, which Excel keeps when a sheet is renamed,
translated or moved: a workbook-scope ``xlcomplaints.template`` naming the template
kind, version and spec fingerprint, and a sheet-scope ``xlcomplaints.sheet`` on each
of our sheets naming its kind and version. Both read back from the file (workbook.xml)
and from a live Excel (``Book.names``) the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from xlcomplaints.spec.model import SheetSpec

TEMPLATE_NAME = "xlcomplaints.template"
SHEET_NAME = "xlcomplaints.sheet"


def template_stamp(kind: str, version: str, sheets: Sequence[SheetSpec]) -> str:
    fp = hashlib.sha256("".join(s.fingerprint() for s in sheets).encode()).hexdigest()[:12]
    return f"{kind}|{version}|{fp}"


def sheet_stamp(spec: SheetSpec) -> str:
    return f"{spec.kind}|{spec.version}|{spec.fingerprint()}"


@dataclass(frozen=True)
class Stamp:
    kind: str
    version: str
    fingerprint: str = ""

    @classmethod
    def parse(cls, value: str) -> Stamp | None:
        """Read ``="kind|version|fp"`` (as stored) or ``kind|version|fp``; None if not ours."""
        text = value.strip().lstrip("=").strip().strip('"')
        parts = text.split("|")
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return None
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")


def version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (-1,)

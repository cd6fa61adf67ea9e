"""What a VBA project holds: its modules and references (MS-OVBA §2.3.4.2.2), and the ones our templates use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class VbaModule:
    """One VBA module; ``code`` without ``Attribute VB_*`` header (we write it)."""

    name: str
    code: str
    kind: Literal["standard", "document", "class"] = "standard"


@dataclass(frozen=True)
class VbaReference:
    """A project reference (MS-OVBA §2.3.4.2.2).

    ``registered``: ``libid`` is a type-library LibidReference (``*\\G{guid}#ver#lcid#path#desc``).
    ``project``: ``libid`` is the absolute ``*\\C<path>`` of another VBA project and
    ``libid_relative`` the path relative to the workbook; ``major_version``/``minor_version``
    name the referenced project's PROJECTVERSION, as Excel records it when the reference is
    made (xlwings' own quickstart.xlsm carries an older add-in's: a mismatch is tolerated).
    """

    name: str
    libid: str
    kind: Literal["registered", "project"] = "registered"
    libid_relative: str = ""
    major_version: int = 0
    minor_version: int = 0


STDOLE = VbaReference(
    "stdole",
    r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation",
)
# As Excel 2016+ writes it; the path is a hint, the GUID and version identify the library.
OFFICE = VbaReference(
    "Office",
    r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
    r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
)
# Where `xlwings addin install` puts the add-in (Application.StartupPath), for a neutral user.
XLWINGS_ADDIN_PATH = r"C:\Users\Default\AppData\Roaming\Microsoft\Excel\XLSTART\xlwings.xlam"


def xlwings_addin_reference(addin_path: str = XLWINGS_ADDIN_PATH, version: tuple[int, int] = (0, 0)) -> VbaReference:
    """Reference to the xlwings add-in project (named ``xlwings``) so ``RunPython`` resolves.

    Same shape as xlwings' own ``quickstart.xlsm``: a REFERENCEPROJECT named ``xlwings``
    with ``*\\C<absolute path>`` and a relative ``*\\C<path>``. That file ships with its
    author's absolute path (C:\\Users\\felix\\...) and is meant to work wherever the add-in
    is installed, which suggests the loaded ``xlwings.xlam`` binds the reference and the
    path is only a fallback (not verifiable without Excel).
    """
    filename = re.split(r"[\\/]", addin_path)[-1]
    return VbaReference("xlwings", "*\\C" + addin_path, "project", "*\\C" + filename, *version)

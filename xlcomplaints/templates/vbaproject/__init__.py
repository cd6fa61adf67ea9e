"""Write a source-only ``vbaProject.bin`` (the VBA part of an .xlsm) without Excel.

Why: our templates need Form Control buttons whose macros call xlwings' ``RunPython``,
and no maintained Python library writes a VBA project. XlsxWriter only embeds one.

Format, and which part of this module implements which section:

* The container is an OLE compound file, MS-CFB version 3 (:func:`_cfb`): 512-byte
  sectors, one FAT (header DIFAT only, so at most 109 FAT sectors, about 6.8 MB), a
  directory whose siblings form a balanced binary tree ordered as §2.6.4 requires and
  coloured all black, streams under 4096 bytes in the mini stream (§2.6.3) with a
  mini FAT.
* Inside it, MS-OVBA §2.2: ``PROJECT`` (§2.3.1, text properties; ``CMG``/``DPB``/
  ``GC`` carry "no protection, no password, visible", obfuscated by the §2.4.3
  data encryption), ``PROJECTwm`` (§2.3.3), ``VBA/_VBA_PROJECT`` in its 7-byte
  source-only form (§2.3.4.1, version 0xFFFF: Office ignores caches and compiles the
  source), ``VBA/dir`` (§2.3.4.2, compressed) with REFERENCEREGISTERED and
  REFERENCEPROJECT references and MODULEOFFSET 0, and one compressed stream per
  module (§2.3.4.3) holding the ``Attribute VB_...`` header Excel writes, then the
  code.
* :func:`compress` is the §2.4.1.3 algorithm (longest match, nearest candidate wins,
  variable offset/length split of copy tokens, a zero-padded raw chunk when a chunk
  does not shrink); it reproduces the §3.2 examples byte for byte. Ordinary VBA
  source shrinks far more than a raw chunk needs. :func:`decompress` is §2.4.1.3.1.

Deliberately left out: p-code and ``__SRP_*`` performance caches (Office recompiles),
project protection and passwords, digital signatures, UserForms/designers
(``Package=``/``BaseClass=``), REFERENCECONTROL/REFERENCEORIGINAL, PROJECTCONSTANTS,
and chart-sheet document modules.

Document modules are the caller's job: pass one ``kind="document"`` module whose name
equals the workbook's codeName (``workbook_codename``, normally ``ThisWorkbook``) and
one for each worksheet codeName the workbook declares; Excel matches them by name.
Source is stored in the project codepage: use ``codepage=936`` for Chinese text in
string literals or comments (cp1252 cannot encode it and we raise).
"""

from xlcomplaints.templates.vbaproject.compression import compress, decompress
from xlcomplaints.templates.vbaproject.model import (
    OFFICE,
    STDOLE,
    XLWINGS_ADDIN_PATH,
    VbaModule,
    VbaReference,
    xlwings_addin_reference,
)
from xlcomplaints.templates.vbaproject.reading import project_version, read_vba_modules
from xlcomplaints.templates.vbaproject.streams import build_vba_project

__all__ = [
    "OFFICE",
    "STDOLE",
    "XLWINGS_ADDIN_PATH",
    "VbaModule",
    "VbaReference",
    "build_vba_project",
    "compress",
    "decompress",
    "project_version",
    "read_vba_modules",
    "xlwings_addin_reference",
]

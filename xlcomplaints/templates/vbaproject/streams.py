"""MS-OVBA project streams (PROJECT, PROJECTwm, VBA/dir, the modules) and :func:`build_vba_project`."""

from __future__ import annotations

import codecs
import re
import struct
import uuid
from collections.abc import Sequence

from xlcomplaints.templates.vbaproject.cfb import _cfb
from xlcomplaints.templates.vbaproject.compression import compress
from xlcomplaints.templates.vbaproject.model import STDOLE, VbaModule, VbaReference

_BASES = {  # VB_Base of Excel's document classes and of VBA class modules
    "workbook": "0{00020819-0000-0000-C000-000000000046}",
    "worksheet": "0{00020820-0000-0000-C000-000000000046}",
    "class": "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}",
}
_IDENTIFIER = re.compile(r"[^\W\d_]\w{0,30}")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _codec(codepage: int) -> str:
    name = {65001: "utf-8", 10000: "mac-roman"}.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unsupported VBA codepage {codepage}") from None


def _lines(code: str) -> list[str]:
    lines = _NEWLINE.split(code)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _module_text(module: VbaModule, workbook_codename: str) -> str:
    """Attribute header as the VBE stores it (see e.g. xlwings' quickstart.xlsm), then code."""
    header = [f'Attribute VB_Name = "{module.name}"']
    if module.kind != "standard":
        document = module.kind == "document"
        base = "class" if not document else "workbook" if module.name == workbook_codename else "worksheet"
        header += [
            f'Attribute VB_Base = "{_BASES[base]}"',
            "Attribute VB_GlobalNameSpace = False",
            "Attribute VB_Creatable = False",
            f"Attribute VB_PredeclaredId = {document}",
            f"Attribute VB_Exposed = {document}",
            "Attribute VB_TemplateDerived = False",
            f"Attribute VB_Customizable = {document}",
        ]
    return "".join(line + "\r\n" for line in header + _lines(module.code))


def _rec(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _dir_stream(modules: Sequence[VbaModule], project_name: str,
                references: Sequence[VbaReference], codepage: int, lcid: int) -> bytes:
    """MS-OVBA §2.3.4.2 in the record order Excel writes (minus PROJECTCOMPATVERSION)."""
    codec = _codec(codepage)

    def text(record_id: int, value: str, unicode_id: int | None = None) -> bytes:
        out = _rec(record_id, value.encode(codec))
        return out + (_rec(unicode_id, value.encode("utf-16-le")) if unicode_id else b"")

    u16, u32 = (lambda v: struct.pack("<H", v)), (lambda v: struct.pack("<I", v))
    out = bytearray()
    out += _rec(0x01, u32(1))  # PROJECTSYSKIND: 32-bit Windows (source-only, so Office recompiles)
    out += _rec(0x02, u32(lcid)) + _rec(0x14, u32(lcid)) + _rec(0x03, u16(codepage))
    out += text(0x04, project_name) + text(0x05, "", 0x40) + text(0x06, "") + text(0x3D, "")
    out += _rec(0x07, u32(0)) + _rec(0x08, u32(0))  # HELPCONTEXT, LIBFLAGS
    out += struct.pack("<HIIH", 0x09, 4, 1, 0)  # PROJECTVERSION: Reserved=4, then 6 bytes
    out += text(0x0C, "", 0x3C)  # PROJECTCONSTANTS
    for ref in references:
        out += text(0x16, ref.name, 0x3E)  # REFERENCENAME
        libid = ref.libid.encode(codec)
        if ref.kind == "registered":
            out += _rec(0x0D, u32(len(libid)) + libid + u32(0) + u16(0))
        else:
            relative = (ref.libid_relative or ref.libid).encode(codec)
            out += _rec(0x0E, u32(len(libid)) + libid + u32(len(relative)) + relative
                        + u32(ref.major_version) + u16(ref.minor_version))
    out += _rec(0x0F, u16(len(modules))) + _rec(0x13, u16(0xFFFF))  # PROJECTMODULES, cookie
    for m in modules:
        out += text(0x19, m.name, 0x47) + text(0x1A, m.name, 0x32) + text(0x1C, "", 0x48)
        out += _rec(0x31, u32(0)) + _rec(0x1E, u32(0)) + _rec(0x2C, u16(0xFFFF))  # offset 0
        out += _rec(0x21 if m.kind == "standard" else 0x22, b"") + _rec(0x2B, b"")
    out += _rec(0x10, b"")
    return compress(bytes(out))


def _encrypt(project_id: str, data: bytes, seed: int) -> str:
    """MS-OVBA §2.4.3.2 data "encryption" (obfuscation) of CMG/DPB/GC values."""
    key = sum(project_id.encode("ascii")) & 0xFF
    out = [seed, seed ^ 2, seed ^ key]
    plain1, enc1, enc2 = key, out[2], out[1]
    payload = bytes([seed]) * ((seed & 6) // 2) + struct.pack("<I", len(data)) + data
    for byte in payload:
        enc = ((enc2 + plain1) & 0xFF) ^ byte
        out.append(enc)
        plain1, enc1, enc2 = byte, enc, enc1
    return bytes(out).hex().upper()


def _project_stream(modules: Sequence[VbaModule], project_name: str, project_id: str,
                    codec: str) -> bytes:
    lines = [f'ID="{project_id}"']
    for m in modules:
        kind = {"document": "Document", "standard": "Module", "class": "Class"}[m.kind]
        lines.append(f"{kind}={m.name}" + ("/&H00000000" if m.kind == "document" else ""))
    seed = int(project_id[1:3], 16)  # fixed per project, so builds are reproducible
    lines += [
        f'Name="{project_name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
        f'CMG="{_encrypt(project_id, bytes(4), seed)}"',  # protection state 0
        f'DPB="{_encrypt(project_id, bytes(1), seed)}"',  # single 0x00: no password
        f'GC="{_encrypt(project_id, bytes([0xFF]), seed)}"',  # visible
        "", "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "", "[Workspace]", *(f"{m.name}=0, 0, 0, 0, C" for m in modules),
    ]
    return "".join(line + "\r\n" for line in lines).encode(codec)


def _validate(modules: Sequence[VbaModule], project_name: str, workbook_codename: str) -> None:
    seen: set[str] = set()
    for m in (*modules, VbaModule(project_name, "")):
        if not _IDENTIFIER.fullmatch(m.name):
            raise ValueError(f"not a VBA identifier of at most 31 characters: {m.name!r}")
        if m.name.upper() in seen or m.name.upper() == "DIR":
            raise ValueError(f"duplicate or reserved module name: {m.name!r}")
        seen.add(m.name.upper())
        if m.code and _lines(m.code)[0].startswith("Attribute VB_"):
            raise ValueError(f"{m.name}: leave out the Attribute VB_* header, it is generated")
    if not any(m.kind == "document" and m.name == workbook_codename for m in modules):
        raise ValueError(f"a document module named {workbook_codename!r} (workbook codeName) is required")


def build_vba_project(
    modules: Sequence[VbaModule],
    *,
    project_name: str = "VBAProject",
    references: Sequence[VbaReference] = (STDOLE,),
    codepage: int = 1252,
    lcid: int = 0x409,
    workbook_codename: str = "ThisWorkbook",
) -> bytes:
    """Return a source-only ``vbaProject.bin`` holding ``modules`` in the given order.

    ``lcid`` is kept at 0x409 by Excel whatever the UI language (MS-OVBA says it MUST
    be); ``codepage`` decides how names and source are stored (936 for Chinese).
    """
    _validate(modules, project_name, workbook_codename)
    codec = _codec(codepage)
    seed = "\0".join([project_name, *(f"{m.kind}:{m.name}" for m in modules)])
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xlcomplaints-vba:" + seed)).upper() + "}"
    try:
        vba: dict[str, bytes] = {
            "_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0, 0),
            "dir": _dir_stream(modules, project_name, references, codepage, lcid),
        }
        for m in modules:
            vba[m.name] = compress(_module_text(m, workbook_codename).encode(codec))
        wm = b"".join(m.name.encode(codec) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules)
        project = _project_stream(modules, project_name, project_id, codec)
    except UnicodeEncodeError as exc:
        raise ValueError(f"text not encodable in codepage {codepage} (use 936 for Chinese): {exc}") from exc
    return _cfb({"PROJECT": project, "PROJECTwm": wm + b"\0\0", "VBA": vba})

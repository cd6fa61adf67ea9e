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

from __future__ import annotations

import codecs
import re
import struct
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "OFFICE",
    "STDOLE",
    "XLWINGS_ADDIN_PATH",
    "VbaModule",
    "VbaReference",
    "build_vba_project",
    "compress",
    "decompress",
    "read_vba_modules",
    "xlwings_addin_reference",
]


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


def project_version(vba_project: bytes) -> tuple[int, int]:
    """A vbaProject.bin's PROJECTVERSION (MS-OVBA §2.3.4.2.1.11): (VersionMajor, VersionMinor),
    what Excel copies into a REFERENCEPROJECT to that project. Needs olefile."""
    import olefile

    with olefile.OleFileIO(vba_project) as ole:
        for record_id, payload in _dir_records(decompress(ole.openstream("VBA/dir").read())):
            if record_id == 0x09 and len(payload) == 6:
                major, minor = struct.unpack("<IH", payload)
                return major, minor
    raise ValueError("the VBA project has no PROJECTVERSION record")


# --- MS-OVBA §2.4.1 compression ---------------------------------------------------------

_CHUNK = 4096


def _copy_token_help(difference: int) -> tuple[int, int]:
    """§2.4.1.3.19.1: offset bit count and maximum length for a position in the chunk."""
    bit_count = max((difference - 1).bit_length(), 4)  # ceil(log2(difference)), at least 4
    return bit_count, (0xFFFF >> bit_count) + 3


def _match(data: bytes, start: int, pos: int, end: int) -> tuple[int, int]:
    """§2.4.1.3.19.4: (length, offset) of the longest match, nearest candidate on ties.

    The specification scans every earlier position; ``bytes.rfind`` gives the same
    answer (the highest start index with the longest common prefix, overlaps allowed)
    without a Python-level quadratic loop.
    """
    def found(length: int) -> int:
        return data.rfind(data[pos : pos + length], start, pos - 1 + length)

    limit = end - pos
    if pos == start or limit < 3 or found(3) < 0:
        return 0, 0
    good, bad = 3, limit + 1  # galloping, then bisection, on "a match of this length exists"
    probe = 6
    while probe <= limit and found(probe) >= 0:
        good, probe = probe, probe * 2
    bad = min(bad, probe)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if found(mid) >= 0 else (good, mid)
    return min(good, _copy_token_help(pos - start)[1]), pos - found(good)


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    body = bytearray()
    pos = start
    while pos < end:
        flag_at, flags = len(body), 0
        body.append(0)
        for bit in range(8):
            if pos >= end:
                break
            length, offset = _match(data, start, pos, end)
            if length:
                bit_count = _copy_token_help(pos - start)[0]
                body += struct.pack("<H", ((offset - 1) << (16 - bit_count)) | (length - 3))
                flags |= 1 << bit
                pos += length
            else:
                body.append(data[pos])
                pos += 1
        body[flag_at] = flags
    if len(body) > _CHUNK:  # §2.4.1.3.10: a raw chunk is always 4096 bytes, zero-padded
        return struct.pack("<H", 0x3000 | (_CHUNK + 2 - 3)) + data[start:end].ljust(_CHUNK, b"\0")
    return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + bytes(body)


def compress(data: bytes) -> bytes:
    """MS-OVBA §2.4.1.3.6: a CompressedContainer (signature 0x01, then 4096-byte chunks)."""
    data = bytes(data)
    chunks = (_compress_chunk(data, s, min(s + _CHUNK, len(data))) for s in range(0, len(data), _CHUNK))
    return b"\x01" + b"".join(chunks)


def decompress(data: bytes) -> bytes:
    """MS-OVBA §2.4.1.3.1; raises ValueError on a malformed container."""
    if not data or data[0] != 1:
        raise ValueError("not a CompressedContainer: signature byte is not 0x01")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated chunk header")
        header = data[pos] | data[pos + 1] << 8
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at {pos}")
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        if not header & 0x8000:  # raw chunk
            out += data[pos : pos + _CHUNK]
            pos += _CHUNK
            continue
        chunk_start = len(out)
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise ValueError("truncated copy token")
                token = data[pos] | data[pos + 1] << 8
                pos += 2
                bit_count = _copy_token_help(len(out) - chunk_start)[0]
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out) - chunk_start:
                    raise ValueError("copy token points before the chunk")
                src = out[len(out) - offset :]
                out += (src * (length // offset + 1))[:length]  # overlapping copy repeats
    return bytes(out)


# --- MS-CFB v3 writer ---------------------------------------------------------------------

_Tree = Mapping[str, Any]  # name -> bytes (stream) or nested mapping (storage)
_SECTOR, _MINI_SECTOR, _MINI_CUTOFF = 512, 64, 4096
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_DIRENTRY = "<64sHBBIII16sIQQIQ"  # §2.6.1: 128 bytes


def _sectors(size: int, unit: int) -> int:
    return -(-size // unit)


def _cfb(tree: _Tree) -> bytes:
    """Serialise nested {name: bytes | {...}} as a v3 compound file (root = the mapping)."""
    entries: list[dict] = []  # name, type, data, left, right, child, start, size

    def add(name: str, node: bytes | _Tree, kind: int) -> int:
        index = len(entries)
        entry = {"name": name, "type": kind, "data": b"", "left": _NOSTREAM, "right": _NOSTREAM,
                 "child": _NOSTREAM, "start": 0, "size": 0}
        entries.append(entry)
        if isinstance(node, bytes | bytearray):
            entry["data"] = bytes(node)
            return index
        # §2.6.4 ordering: shorter name first, then code-unit-wise uppercase comparison.
        ids = [add(n, c, 2 if isinstance(c, bytes | bytearray) else 1) for n, c in node.items()]
        ids.sort(key=lambda i: (len(entries[i]["name"].encode("utf-16-le")), entries[i]["name"].upper()))

        def balance(lo: int, hi: int) -> int:
            if lo >= hi:
                return _NOSTREAM
            mid = (lo + hi) // 2
            entries[ids[mid]]["left"] = balance(lo, mid)
            entries[ids[mid]]["right"] = balance(mid + 1, hi)
            return ids[mid]

        entry["child"] = balance(0, len(ids))
        return index

    add("Root Entry", tree, 5)
    streams = [e for e in entries if e["type"] == 2]
    small = [e for e in streams if len(e["data"]) < _MINI_CUTOFF]
    big = [e for e in streams if len(e["data"]) >= _MINI_CUTOFF]

    mini_fat: list[int] = []
    mini_stream = bytearray()
    for e in small:
        n = _sectors(len(e["data"]), _MINI_SECTOR)
        e["start"] = len(mini_fat) if n else _ENDOFCHAIN
        mini_fat += [len(mini_fat) + i + 1 for i in range(n - 1)] + [_ENDOFCHAIN] * bool(n)
        mini_stream += e["data"].ljust(n * _MINI_SECTOR, b"\0")
    mini_fat += [_FREESECT] * (-len(mini_fat) % (_SECTOR // 4))

    n_dir = _sectors(len(entries) * 128, _SECTOR)
    n_minifat = len(mini_fat) * 4 // _SECTOR
    n_mini = _sectors(len(mini_stream), _SECTOR)
    n_big = sum(_sectors(len(e["data"]), _SECTOR) for e in big)
    n_fat = 1
    while n_fat * (_SECTOR // 4) < n_fat + n_dir + n_minifat + n_mini + n_big:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("VBA project too large for a compound file without DIFAT sectors")

    # Sector order: FAT, mini FAT, mini stream, large streams, directory (last, since it
    # records where everything else starts).
    fat: list[int] = [_FATSECT] * n_fat
    body = bytearray()

    def place(blob: bytes) -> int:
        n = _sectors(len(blob), _SECTOR)
        if not n:
            return _ENDOFCHAIN
        first = len(fat)
        fat.extend([first + i + 1 for i in range(n - 1)] + [_ENDOFCHAIN])
        body.extend(blob.ljust(n * _SECTOR, b"\0"))
        return first

    minifat_start = place(struct.pack(f"<{len(mini_fat)}I", *mini_fat))
    entries[0]["start"], entries[0]["size"] = place(bytes(mini_stream)), len(mini_stream)
    for e in streams:
        e["size"] = len(e["data"])
    for e in big:
        e["start"] = place(e["data"])

    directory = bytearray()
    for e in entries:
        name = (e["name"] + "\0").encode("utf-16-le")
        if len(name) > 64:
            raise ValueError(f"compound file name too long: {e['name']!r}")
        directory += struct.pack(_DIRENTRY, name, len(name), e["type"], 1, e["left"], e["right"],
                                 e["child"], b"", 0, 0, 0, e["start"], e["size"])  # colour 1: black
    unused = struct.pack(_DIRENTRY, b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"", 0, 0, 0, 0, 0)
    dir_start = place(bytes(directory + unused * (n_dir * 4 - len(entries))))

    fat += [_FREESECT] * (n_fat * (_SECTOR // 4) - len(fat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", 0x3E, 3, 0xFFFE, 9, 6, b"",
        0, n_fat, dir_start, 0, _MINI_CUTOFF, minifat_start, n_minifat, _ENDOFCHAIN, 0,
        *range(n_fat), *[_FREESECT] * (109 - n_fat),
    )
    return header + struct.pack(f"<{len(fat)}I", *fat) + bytes(body)


# --- MS-OVBA project streams -------------------------------------------------------------

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


# --- reading (tests and diagnostics) ------------------------------------------------------


def _dir_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos + 6 <= len(data):
        record_id, size = struct.unpack_from("<HI", data, pos)
        size = 6 if record_id == 0x09 else size  # PROJECTVERSION's Size field says 4
        yield record_id, data[pos + 6 : pos + 6 + size]
        pos += 6 + size


def read_vba_modules(data: bytes, *, attributes: bool = False) -> dict[str, str]:
    """Module name -> source (``\\n`` line ends) from any ``vbaProject.bin``, via olefile.

    Honours MODULEOFFSET, so Excel-written projects with p-code read too. Without
    ``attributes`` the leading ``Attribute VB_*`` lines are dropped, giving back what
    was passed to :func:`build_vba_project`.
    """
    import olefile  # test/diagnostic dependency only

    with olefile.OleFileIO(data) as ole:
        codec, modules, name, stream, offset = "cp1252", {}, "", "", 0
        for record_id, payload in _dir_records(decompress(ole.openstream("VBA/dir").read())):
            if record_id == 0x03:
                codec = _codec(struct.unpack("<H", payload)[0])
            elif record_id == 0x19:
                name = payload.decode(codec)
            elif record_id == 0x47:
                name = payload.decode("utf-16-le")
            elif record_id == 0x1A:
                stream = payload.decode(codec)
            elif record_id == 0x32:
                stream = payload.decode("utf-16-le")
            elif record_id == 0x31:
                offset = struct.unpack("<I", payload)[0]
            elif record_id == 0x2B:
                modules[name] = decompress(ole.openstream(f"VBA/{stream}").read()[offset:]).decode(codec)
    result = {}
    for module_name, text in modules.items():
        lines = _lines(text)
        while not attributes and lines and lines[0].startswith("Attribute VB_"):
            lines.pop(0)
        result[module_name] = "".join(line + "\n" for line in lines)
    return result

"""Reading a ``vbaProject.bin`` back (tests and diagnostics; needs olefile)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from xlcomplaints.templates.vbaproject.compression import decompress
from xlcomplaints.templates.vbaproject.streams import _codec, _lines


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

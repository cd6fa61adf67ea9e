"""A minimal MS-CFB version 3 (OLE compound file) writer: the container of ``vbaProject.bin``."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

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

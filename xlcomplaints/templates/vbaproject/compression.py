"""MS-OVBA §2.4.1 compression and decompression (the module, dir and project streams are stored compressed)."""

from __future__ import annotations

import struct

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

"""Build small OLE2 compound files (MS-CFB version 3) with chosen streams, for sniffing tests.

Each stream is padded to 4,096 bytes so it lives in ordinary sectors (no mini stream);
one FAT sector, one directory sector: up to 3 streams of up to ~60 KB in all.
"""
from __future__ import annotations

import struct
from pathlib import Path

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512


def _header() -> bytes:
    head = MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    head += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    head += struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108  # DIFAT: the FAT is sector 0
    return head


def _entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NOSTREAM, right, child) + b"\0" * 36 + struct.pack("<IQ", start, size)[:8]
            + b"\0" * 4)


def build_ole2(path: Path, streams: dict[str, bytes]) -> Path:
    """Write an OLE2 file at ``path`` holding ``streams`` (name → bytes, at most 3)."""
    fat = [_FATSECT, _END]
    entries = [_entry("Root Entry", 5, 1 if streams else _NOSTREAM, _NOSTREAM, _END, 0)]
    data = b""
    for index, (name, content) in enumerate(streams.items(), 1):
        padded = content.ljust(max(4096, -(-len(content) // _SECTOR) * _SECTOR), b"\0")
        first, count = len(fat), len(padded) // _SECTOR
        fat += [first + i + 1 for i in range(count - 1)] + [_END]
        right = index + 1 if index < len(streams) else _NOSTREAM
        entries.append(_entry(name, 2, _NOSTREAM, right, first, len(padded)))
        data += padded
    fat_sector = b"".join(struct.pack("<I", v) for v in fat).ljust(_SECTOR, b"\xff")
    directory = b"".join(entries).ljust(_SECTOR, b"\0")
    Path(path).write_bytes(_header() + fat_sector + directory + data)
    return Path(path)


def word_fib(flags: int = 0) -> bytes:
    """The start of a WordDocument stream: a Word 97 FIB with ``flags`` at 0x0A."""
    return struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0, 0, flags)

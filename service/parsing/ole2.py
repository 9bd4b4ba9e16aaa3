"""What an OLE2 compound file (D0 CF 11 E0) holds, judged by its stream names.

One container format carries the old Office binaries and more; the streams tell them
apart (MS-CFB directory, read with ``olefile``):

- ``EncryptedPackage`` → an encrypted OOXML file (.docx/.xlsx … with an open password);
- ``WordDocument`` → Word 97–2003 / Word 6–95 binary. WPS Office saves ``.wps`` as the
  same binary. Its File Information Block says whether it is encrypted (``fEncrypted``,
  RC4 or XOR ``fObfuscated``): then there is nothing to read without the password;
- ``Workbook`` / ``Book`` → Excel 97–2003 / Excel 5 (.xls, WPS .et);
- ``PowerPoint Document`` → PowerPoint 97–2003 (.ppt, WPS .dps).

A directory olefile cannot read (a truncated or damaged file) → ``corrupt_file``; any
other container (an .msg, an .msi …) → ``unsupported_type``.
"""
from __future__ import annotations

import struct
from pathlib import Path

import olefile

from service.parsers import CorruptFile, Encrypted, UnsupportedType

MSWORD = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"

#: FIB (MS-DOC 2.5.2): wIdent at 0, the flag word at 0x0A.
_WORD_IDENTS = frozenset({0xA5EC, 0xA5DC})
_F_ENCRYPTED = 0x0100
_F_OBFUSCATED = 0x8000


def _word_is_encrypted(ole: olefile.OleFileIO) -> bool:
    with ole.openstream("WordDocument") as stream:
        fib = stream.read(12)
    if len(fib) < 12:
        raise CorruptFile("WordDocument stream shorter than its FIB")
    ident, flags = struct.unpack_from("<H", fib, 0)[0], struct.unpack_from("<H", fib, 0x0A)[0]
    if ident not in _WORD_IDENTS:
        raise CorruptFile(f"WordDocument stream without a Word FIB (wIdent {ident:#06x})")
    return bool(flags & (_F_ENCRYPTED | _F_OBFUSCATED))


def _kind(ole: olefile.OleFileIO) -> str:
    streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    if "EncryptedPackage" in streams:
        raise Encrypted("encrypted OOXML package")
    if "WordDocument" in streams:
        if _word_is_encrypted(ole):
            raise Encrypted("Word binary with fEncrypted/fObfuscated set")
        return MSWORD
    if streams & {"Workbook", "Book"}:
        return XLS
    if "PowerPoint Document" in streams:
        return PPT
    raise UnsupportedType(media_type="未知的 OLE2 复合文档")


def ole2_type(path: Path) -> str:
    """The media type of the OLE2 file at ``path``: Word, Excel or PowerPoint binary.

    Raises ``Encrypted``, ``CorruptFile`` or ``UnsupportedType`` as the module says.
    """
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return _kind(ole)
    except (OSError, ValueError, struct.error, IndexError, RecursionError) as exc:
        # olefile raises OSError for a bad header/FAT, others on damaged sectors.
        raise CorruptFile(f"OLE2 directory unreadable: {type(exc).__name__}: {exc}"[:300]) from exc

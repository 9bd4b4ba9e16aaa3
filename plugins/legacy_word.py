"""Parser plugin for legacy Word: .doc and .wps (the OLE2 Word binary) and .rtf.

LibreOffice converts the file to .docx (``plugins/converter.py``: a warm soffice owned by
the parse server, see there for where it lives and how it is bounded), and the .docx
plugin reads the result (``plugins/word.py`` and its walker ``plugins/word_walk.py``).
LibreOffice carries tracked insertions and deletions, comments, hidden runs, headers
and footers and document properties over into the .docx, so they reach ``hidden`` — and
the privacy scan — exactly as they do for a .docx.

The converted file is the same for every later step: ``properties["converted_from"]``
says what it was made from and ``properties["converter"]`` how (``libreoffice``). The
converted .docx is temporary; the original is what intake keeps.

Errors: no LibreOffice on the server → ``converter_missing``; LibreOffice failing,
crashing or passing its deadline → ``converter_failed``; what the .docx plugin says
about the result (``corrupt_file``, ``resource_limit`` …) stands as it is.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from plugins.converter import converter, work_dir
from plugins.word import WordParser
from service.parsers import EmptyFile, ParseContext, ParsedDocument

MSWORD = "application/msword"
RTF = "application/rtf"
#: The name LibreOffice's type detection sees (.wps would suggest Microsoft Works).
_SUFFIXES = {MSWORD: ".doc", RTF: ".rtf"}


class LegacyWordParser:
    """Parser plugin for .doc/.wps (Word 97–2003 binary) and .rtf, through LibreOffice."""

    name = "legacy_word"
    version = "1"
    media_types = frozenset({MSWORD, RTF})
    priority = 0

    def prepare(self) -> None:
        """In the parse server: have the warm converter running (see ``plugins.converter``)."""
        converter().start()

    def parse(self, path: Path, context: ParseContext) -> ParsedDocument:
        path = Path(path)
        if path.stat().st_size == 0:
            raise EmptyFile()
        out_dir = Path(tempfile.mkdtemp(prefix="convert-", dir=work_dir()))
        try:
            docx_path = converter().to_docx(path, out_dir, _SUFFIXES.get(context.media_type, ".doc"))
            doc = WordParser().parse(docx_path, dataclasses.replace(
                context, media_type=next(iter(WordParser.media_types))))
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        source = "rtf" if context.media_type == RTF else "msword"
        properties = {**doc.properties, "converted_from": source, "converter": "libreoffice"}
        return dataclasses.replace(doc, properties=properties)

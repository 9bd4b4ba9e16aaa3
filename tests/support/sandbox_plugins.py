"""Misbehaving parsers for test_sandbox: each must end as a coded ParseError."""
import ctypes
import time

from service.parsers import CorruptFile, ParsedDocument, Paragraph


class _Base:
    version = "1"
    media_types = frozenset({"application/x-test"})
    priority = 0


class Good(_Base):
    name = "good"

    def parse(self, path, context):
        return ParsedDocument(blocks=(Paragraph(path.read_text(encoding="utf-8")),), page_count=1)


class RaisesTypeError(_Base):
    name = "typeerror"

    def parse(self, path, context):
        return None + 1  # the bare TypeError pdfplumber raised on qpdf issue-449


class RaisesCoded(_Base):
    name = "coded"

    def parse(self, path, context):
        raise CorruptFile("xref broken")


class EatsMemory(_Base):
    name = "memory"

    def parse(self, path, context):
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))


class Spins(_Base):
    name = "spin"

    def parse(self, path, context):
        while True:
            pass


class Sleeps(_Base):
    name = "sleep"

    def parse(self, path, context):
        time.sleep(60)


class Segfaults(_Base):
    name = "segv"

    def parse(self, path, context):
        ctypes.string_at(0)


class TooManyPages(_Base):
    name = "pages"

    def parse(self, path, context):
        return ParsedDocument(blocks=(), page_count=context.limits.max_pages + 1)


class WrongReturn(_Base):
    name = "wrong"

    def parse(self, path, context):
        return "not a document"


class Pid(_Base):
    """Answers with the id of the process that parsed."""
    name = "pid"

    def parse(self, path, context):
        import os

        return ParsedDocument(blocks=(Paragraph(str(os.getpid())),), page_count=1)


class BurnsASecond(_Base):
    """Uses ~1.2 s of CPU and succeeds: three in a row exceed a 2 s budget only if it were cumulative."""
    name = "burn"

    def parse(self, path, context):
        import os
        import resource

        start = resource.getrusage(resource.RUSAGE_SELF)
        while True:
            now = resource.getrusage(resource.RUSAGE_SELF)
            if (now.ru_utime + now.ru_stime) - (start.ru_utime + start.ru_stime) > 1.2:
                return ParsedDocument(blocks=(Paragraph(str(os.getpid())),), page_count=1)


_LEAKED = []


class Leaks(_Base):
    """Succeeds but keeps 300 MB alive in the process."""
    name = "leak"

    def parse(self, path, context):
        import os

        _LEAKED.append(bytearray(b"x") * (300 * 1024 * 1024))
        return ParsedDocument(blocks=(Paragraph(str(os.getpid())),), page_count=1)

"""Parser plugins used by test_registry: good, tied and broken ones."""
from service.parsers import ParsedDocument, Paragraph


class ThirdPartyPdf:
    name = "acme-pdf"
    version = "2.0"
    media_types = frozenset({"application/pdf"})
    priority = 0

    def parse(self, path, context):
        return ParsedDocument(blocks=(Paragraph("acme"),), page_count=1)


class HighPriorityPdf(ThirdPartyPdf):
    name = "zz-fast-pdf"
    priority = 10


class BrokenOnInit:
    def __init__(self):
        raise RuntimeError("plugin bug")


class NotAParser:
    name = "nope"

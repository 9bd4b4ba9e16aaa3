"""The intake pipeline, top to bottom. Plain Python: no Flask, no rq, no database.

``process`` is every step one file goes through, in order:

    extract:  size check ─► sniff the type from the bytes ─► parser plugin (isolated child, limits)
              ─► clean (running headers/footers, watermarks, width, quality warnings)
              ─► 公文 fields (GB/T 9704) ─► display text + analysis text
    analyze:  tokenize ─► classify (calibrated, may abstain) ─► privacy & 密级 scan

The worker (``service.processing``) stores what ``process`` returns; ``gongkai classify``
prints it and ``gongkai parse`` prints ``extract``'s half. There is no other path: the CLI
and the review queue cannot disagree on a file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service import config as config_module
from service.analysis.cleaning import clean, reflow
from service.analysis.gongwen import FieldHit, extract_gongwen
from service.analysis.normalize import analysis_form
from service.analysis.privacy import scan_document
from service.analysis.tokenizer import tokenize_document
from service.parsers import (
    FileTooLarge,
    Paragraph,
    ParseContext,
    ParsedDocument,
    ParseLimits,
    ParseWarning,
)
from service.parsing.parse_server import run_isolated
from service.parsing.registry import Registry, default_registry
from service.parsing.sandbox import Limits, parse_in_process
from service.parsing.sniff import sniff


@dataclass(frozen=True)
class Extraction:
    """Everything intake learns about one file."""

    path: str
    sha256: str
    size: int
    media_type: str
    plugin: str
    document: ParsedDocument  # cleaned
    title: str | None
    text: str  # display form: the document's own characters, furniture removed, lines reflowed
    analysis_text: str  # simplified, width-folded: what tokenizers and classifiers read
    metadata: dict[str, FieldHit] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[ParseWarning, ...]:
        return self.document.warnings


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _human_size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def parse_limits(settings: config_module.Settings) -> ParseLimits:
    return ParseLimits(max_pages=settings.parse_max_pages, max_text_bytes=settings.parse_max_text_bytes,
                       max_ocr_pages=settings.parse_ocr_max_pages, ocr_cpu_seconds=settings.parse_ocr_cpu_seconds)


def sandbox_limits(settings: config_module.Settings) -> Limits:
    return Limits(memory_bytes=settings.parse_memory_bytes, ocr_memory_bytes=settings.parse_ocr_memory_bytes,
                  cpu_seconds=settings.parse_cpu_seconds,
                  wall_seconds=settings.parse_wall_seconds, reuse=max(1, settings.parse_child_reuse))


def body_paragraph_texts(doc: ParsedDocument) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Paragraph)]


def display_text(doc: ParsedDocument) -> str:
    """Paragraphs (PDF lines reflowed into paragraphs) and tables, in reading order."""
    parts: list[str] = []
    run: list[Paragraph] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            run.append(block)
            continue
        parts.extend(reflow(run))
        run = []
        parts.extend("\t".join(row) for row in block.rows)
    parts.extend(reflow(run))
    return "\n".join(parts)


def choose_title(doc: ParsedDocument, metadata: dict[str, FieldHit]) -> str | None:
    if "title" in metadata:
        return str(metadata["title"].value)
    if doc.title:
        return doc.title
    for block in doc.blocks[:5]:
        if isinstance(block, Paragraph) and 4 <= len(block.text) <= 60 and not block.text.endswith("。"):
            return block.text
    return None


def extract(path: Path, *, filename: str | None = None, settings: config_module.Settings | None = None,
            registry: Registry | None = None, isolate: bool = True) -> Extraction:
    """Parse, clean and read the 公文 fields of one file. Raises a ParseError subclass."""
    settings = settings or config_module.load()
    registry = registry or default_registry()
    path = Path(path)

    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise FileTooLarge(f"{size} bytes", limit=_human_size(settings.max_upload_bytes))
    sniffed = sniff(path, filename)
    entry = registry.select(sniffed.media_type)
    context = ParseContext(media_type=sniffed.media_type, filename=filename or path.name, limits=parse_limits(settings))
    if isolate:
        parsed = run_isolated(entry.target, path, context, sandbox_limits(settings))
    else:
        parsed = parse_in_process(entry.target, path, context)

    document = clean(parsed)
    metadata = extract_gongwen(body_paragraph_texts(document))
    text = display_text(document)
    return Extraction(
        path=str(path),
        sha256=sha256_of(path),
        size=size,
        media_type=sniffed.media_type,
        plugin=f"{entry.parser.name}/{entry.parser.version}",
        document=document,
        title=choose_title(document, metadata),
        text=text,
        analysis_text=analysis_form(text),
        metadata=metadata,
    )


#: Findings stored per document; a hostile file could otherwise produce millions. Blocking
#: findings are kept first, and ``secrecy_blocked`` is computed over all of them.
MAX_FINDINGS = 500


@dataclass(frozen=True)
class Analysis:
    """What the words of an extraction say: tokens, a suggested category, privacy and 密级 findings."""

    tokens: dict[str, Any]
    prediction: dict[str, Any]
    findings: list[dict[str, Any]]
    secrecy_blocked: bool


@dataclass(frozen=True)
class Processed:
    extraction: Extraction
    analysis: Analysis


def _field(extraction: Extraction, name: str) -> str | None:
    hit = extraction.metadata.get(name)
    return str(hit.value) if hit is not None else None


def analyze(extraction: Extraction, classifier) -> Analysis:
    """Tokenize, classify and scan an extraction. Tokens are stored with the document so
    reclassification never re-segments."""
    tokens = tokenize_document(extraction.title, extraction.analysis_text, doc_type=_field(extraction, "doc_type"),
                               doc_number=_field(extraction, "doc_number"), analysed=True)
    prediction = classifier.predict_extracted(tokens, extraction.title, extraction.analysis_text).to_dict()
    findings = sorted(scan_document(extraction.document), key=lambda f: not f.blocking)
    return Analysis(tokens=tokens.to_dict(), prediction=prediction,
                    findings=[f.to_dict() for f in findings[:MAX_FINDINGS]],
                    secrecy_blocked=any(f.blocking for f in findings))


def process(path: Path, classifier, *, filename: str | None = None, settings: config_module.Settings | None = None,
            registry: Registry | None = None, isolate: bool = True) -> Processed:
    """Every step for one file: ``extract`` then ``analyze``. Raises a ParseError subclass."""
    extraction = extract(path, filename=filename, settings=settings, registry=registry, isolate=isolate)
    return Processed(extraction, analyze(extraction, classifier))

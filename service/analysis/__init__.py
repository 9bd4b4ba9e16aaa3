"""Analysis: what a parsed document says, as pure functions of its text (no I/O).

- ``cleaning``: running headers/footers, page numbers, watermarks, reflowed lines, quality warnings;
- ``normalize``: width folding, simplified characters, whitespace (``analysis_form``);
- ``gongwen``: the GB/T 9704 公文 fields (发文机关, 文号, 标题, 成文日期, 密级, 紧急程度 …);
- ``marks``: the one grammar of 密级/保密期限/紧急程度/份号/内部 marks, used by ``gongwen`` and ``privacy``;
- ``privacy``: the gate — personal data (身份证, phones, cards …) and 密级 marks in everything a parser found;
- ``tokenizer``: jieba with a government-domain dictionary, and ``DocumentTokens``, the words stored
  with each document.

Nothing here imports the web, the queue, the database or the classifier.
"""
from service.analysis.cleaning import clean, reflow
from service.analysis.gongwen import FieldHit, extract_gongwen
from service.analysis.normalize import analysis_form, display_form
from service.analysis.privacy import Finding, scan_document, scan_text
from service.analysis.tokenizer import DocumentTokens, get_tokenizer, tokenize_document

__all__ = ["DocumentTokens", "FieldHit", "Finding", "analysis_form", "clean", "display_form", "extract_gongwen",
           "get_tokenizer", "reflow", "scan_document", "scan_text", "tokenize_document"]

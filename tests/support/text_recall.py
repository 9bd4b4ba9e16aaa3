"""Character recall of extracted text against the text a document was made from."""
from __future__ import annotations

import difflib
import re

_SPACE = re.compile(r"\s+")


def char_recall(truth: str, extracted: str) -> float:
    """Share of ``truth``'s characters found, in order, in ``extracted`` (whitespace removed)."""
    truth, extracted = _SPACE.sub("", truth), _SPACE.sub("", extracted)
    if not truth:
        return 1.0
    matcher = difflib.SequenceMatcher(None, truth, extracted, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(truth)

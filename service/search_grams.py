"""Character n-grams for search: what a text is indexed as, what a query asks for, where it was found.

Chinese has no spaces, and a tokenizer's words are not what people type: 任免 inside 职务任免, 汛
alone, 低保, a year, an 18-digit number or a 文号 such as 县教发〔2025〕8号. So the index holds
characters, not words:

- A text is *normalized* character by character (NFKC — full-width digits and letters become
  ASCII — and lower case) and cut into *runs*: maximal stretches of letters, digits and
  ideographs. Punctuation, brackets, spaces and the ``*`` of a masked number end a run, so
  〔2025〕, [2025] and （2025） read alike, and a masked 身份证 leaves only its visible digits.
- A run is indexed as its distinct bigrams, trigrams and its last character (``grams``):
  ``县教发`` → ``县教 县教发 教发 发``. Every character of a run then starts at least one gram, so a
  single character is found by a prefix query (``汛*``); a run of two characters is one bigram;
  a longer run is the AND of its trigrams.
- A query is normalized the same way; every run of it must be found (AND).

``locate`` maps a query back onto the original text (for highlighted snippets): the positions
of the normalized runs are kept per original character.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: A run asks for at most this many trigrams (a longer one is still rechecked whole where the
#: database does, ``service.search``).
MAX_GRAMS = 40
#: At most this many runs of a query are searched for (the rest are ignored).
MAX_RUNS = 8


def _normal(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def normalized(text: str) -> tuple[str, list[int]]:
    """``text`` normalized, with non-word characters as spaces, and for each character of the
    result the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text or ""):
        for n in _normal(ch):
            out.append(n if _is_word(n) else " ")
            origin.append(i)
    return "".join(out), origin


def runs(text: str) -> list[str]:
    """The runs of word characters of ``text``, normalized."""
    return normalized(text)[0].split()


def grams(text: str) -> list[str]:
    """The distinct index grams of ``text``, sorted: per run its bigrams, its trigrams and its
    last character."""
    found: set[str] = set()
    for run in runs(text):
        found.update(run[i:i + 2] for i in range(len(run) - 1))
        found.update(run[i:i + 3] for i in range(len(run) - 2))
        found.add(run[-1])
    return sorted(found)


@dataclass(frozen=True)
class Term:
    """One run of a query: a single character (``prefix``) or the bigrams of a longer run."""

    run: str

    @property
    def prefix(self) -> bool:
        return len(self.run) == 1

    @property
    def grams(self) -> list[str]:
        """What the index must hold for this run: its trigrams (a run of two: itself)."""
        run = self.run[:MAX_GRAMS + 2]
        return list(dict.fromkeys(run[i:i + 3] for i in range(len(run) - 2))) or [run]


def terms(query: str) -> list[Term]:
    """The runs of ``query`` as search terms, duplicates dropped, at most ``MAX_RUNS``."""
    seen: list[str] = []
    for run in runs(query):
        if run not in seen:
            seen.append(run)
    return [Term(run) for run in seen[:MAX_RUNS]]


def locate(text: str, query: str) -> list[tuple[int, int]]:
    """Where the runs of ``query`` stand in ``text``: sorted, non-overlapping (start, end) spans of
    original characters."""
    flat, origin = normalized(text)
    spans: list[tuple[int, int]] = []
    for term in terms(query):
        start = flat.find(term.run)
        while start >= 0:
            end = start + len(term.run)
            spans.append((origin[start], origin[end - 1] + 1))
            start = flat.find(term.run, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, query: str, width: int = 90) -> list[tuple[str, bool]]:
    """A piece of ``text`` about ``width`` characters long around the first place ``query`` is
    found, as (text, is a hit) parts for a template to mark; the text's start when not found."""
    text = " ".join((text or "").split())
    first = _first_place(text, query)
    if first is None:
        return [(text[:width] + ("…" if len(text) > width else ""), False)] if text else []
    start = max(0, first - width // 4)
    end = min(len(text), start + width)
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    parts += marked(text[start:end], query)
    if end < len(text):
        parts.append(("…", False))
    return parts


def _first_place(text: str, query: str) -> int | None:
    """Where the first run of ``query`` found in ``text`` starts. Most text is as typed, so each
    run is looked for in the text as it stands first; only when none is found so is the whole
    text normalized character by character (full-width digits, compatibility characters)."""
    lowered = text.lower()
    places = [p for p in (lowered.find(t.run) for t in terms(query)) if p >= 0]
    if len(lowered) == len(text) and places:
        return min(places)
    spans = locate(text, query)
    return spans[0][0] if spans else None


def marked(text: str, query: str) -> list[tuple[str, bool]]:
    """All of ``text`` (a title) as parts, with every place ``query`` is found marked."""
    parts: list[tuple[str, bool]] = []
    at = 0
    for s, e in locate(text or "", query):
        if s > at:
            parts.append((text[at:s], False))
        parts.append((text[s:e], True))
        at = e
    if at < len(text or ""):
        parts.append((text[at:], False))
    return parts

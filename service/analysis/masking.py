"""去标识化: the public form of a text, with every personal number masked in place.

What the public sees of a document (its page, the public API, search snippets) is its text
after ``public_form``: each 身份证 number keeps its first six and last four characters
(``610429********0018``), each mobile number its first three and last four (``138****4567``),
each bank card its last four (``***************3445``). The numbers are found by the same
scanner as the privacy gate (``privacy.scan_text``), so whatever the gate flags is what is
masked. Masking is in place, one character for one — separators and full-width digits stay
where they were — so offsets into the text stay valid.

Names and other personal data that are not numbers are not found by the scanner: a reviewer
adds them (``masks["added"]``: every occurrence keeps its first character, ``赵**``), and may
exempt a number the scanner found that is not personal (``masks["exempt"]``, with a reason).
密级 marks are not masked (a document with one is never published).
"""
from __future__ import annotations

from service.analysis.privacy import BANK_CARD, MOBILE, RESIDENT_ID, scan_text

#: The kinds masked in the public form, and how many of their digits stay visible at the
#: start and at the end.
KEPT_DIGITS = {RESIDENT_ID: (6, 4), MOBILE: (3, 4), BANK_CARD: (0, 4)}
MASK = "*"


def _is_digit(ch: str) -> bool:
    """A digit of a number as the scanner reads it: ASCII or full-width digits, and the X of an ID."""
    return ch.isdigit() or ch in "XxＸｘ"


def mask_found(kind: str, found: str) -> str:
    """``found`` (a number as it stands in the text) with its hidden digits replaced by ``*``."""
    head, tail = KEPT_DIGITS[kind]
    positions = [i for i, ch in enumerate(found) if _is_digit(ch)]
    hidden = set(positions[head:len(positions) - tail] if tail else positions[head:])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(found))


def digits_of(value: str) -> str:
    """The digits of a number as written (separators and widths aside), to compare numbers by."""
    return "".join(ch for ch in value.translate(_FULL_WIDTH) if _is_digit(ch)).upper()


_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def mask_added(text: str) -> str:
    """A reviewer-added mask: the first character stays (赵德明 → 赵**), as 公示 lists print names."""
    return text[:1] + MASK * (len(text) - 1) if len(text) > 1 else MASK


def public_form(text: str | None, masks: dict | None = None) -> tuple[str, int]:
    """``text`` with every personal number masked (but those ``masks`` exempts) and every text
    ``masks`` adds masked, and how many places were masked."""
    if not text:
        return text or "", 0
    exempt = {digits_of(e["text"]) for e in (masks or {}).get("exempt", [])}
    chars = list(text)
    count = 0
    for kind, found, start, end in scan_text(text):
        if kind in KEPT_DIGITS and digits_of(found) not in exempt:
            chars[start:end] = mask_found(kind, found)
            count += 1
    for added in (masks or {}).get("added", []):
        word, start = added["text"], text.find(added["text"])
        while word and start >= 0:
            chars[start:start + len(word)] = mask_added(word)
            count += 1
            start = text.find(word, start + len(word))
    return "".join(chars), count


def has_added(masks: dict | None) -> bool:
    return bool((masks or {}).get("added"))


def is_personal(finding: dict) -> bool:
    """Whether a stored finding is personal data that the public form masks."""
    return finding.get("kind") in KEPT_DIGITS

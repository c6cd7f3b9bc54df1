"""Masking personal data in free text that auditors read: payees, ledger descriptions, reasons.

Staff type free text that leaves casework: the payee of a payment ("commissary for José
Hernández"), which also ends up in the ledger's description, the reason for a request. Writers are
asked not to put personal data there, but the pages for auditors must not rely on it. A
``Masker`` replaces, in such text:

- each word that is a known detainee's name: the word's blind index (``name_index_keys``, the same
  transliteration-tolerant key duplicate detection uses) is one of ``DetaineeNameKey``'s, so
  "Jose", "José" and "JOSÉ" are masked alike;
- each run of digits that is a known A-number in any of the ways people write one
  ("A-012-345-678", "A012345678", "012 345 678"): its ``a_number_index`` is a detainee's main or
  other A-number.

Matching reads only the blind indexes, never a stored name. Keys are coarse on purpose (vowels
dropped), so a word can be masked because it sounds like someone's name: a masker errs on the side
of the person. Connective particles ("de", "la", "van") are never masked on their own.

A masker is made for all the texts of a page at once: it collects every candidate's key first and
asks the database once, whatever the number of rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from casework.identity import (
    NAME_PARTICLES,
    ANumberError,
    a_number_index,
    name_index_keys,
    name_tokens,
    normalise_a_number,
)
from casework.models import Detainee, DetaineeANumberKey, DetaineeNameKey

NAME_MASK = _("[name]")
A_NUMBER_MASK = _("[A-number]")

Kind = Literal["name", "a_number"]

# Separators between the words of a name, as ``casework.identity`` splits names: any Unicode
# separator, punctuation, symbol or control character, and the modifier-letter apostrophe.
_SEPARATOR_CATEGORIES = ("Z", "P", "S", "Cc")
_EXTRA_SEPARATORS = frozenset("\u02bc")

# What people put between the digits of an A-number (and what copying from a PDF adds: soft
# hyphens, zero-width spaces). The text is first folded character for character (full-width forms
# to ASCII, dashes to "-"), so the positions found are the original text's.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_A_NUMBER_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z])(?:[Aa][\s#.\-{_INVISIBLE}]*)?[0-9](?:[\s.\-{_INVISIBLE}]*[0-9]){{6,8}}(?![0-9])"
)


def _fold_table() -> dict[int, str]:
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # full-width forms
    table[0x3000] = " "  # ideographic space
    table.update(dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"), "-"))
    return table


_FOLD = _fold_table()


def _is_separator(ch: str) -> bool:
    return ch in _EXTRA_SEPARATORS or unicodedata.category(ch).startswith(_SEPARATOR_CATEGORIES)


@dataclass(frozen=True)
class Candidate:
    """A span of a text that is masked if its key is known."""

    start: int
    end: int
    kind: Kind
    keys: tuple[str, ...]


def _words(text: str) -> Iterable[tuple[int, int]]:
    start = None
    for i, ch in enumerate(text):
        if _is_separator(ch):
            if start is not None:
                yield start, i
                start = None
        elif start is None:
            start = i
    if start is not None:
        yield start, len(text)


def candidates(text: str, memo: dict[str, tuple[str, ...]] | None = None) -> list[Candidate]:
    """The spans of ``text`` that could be an A-number or a name, with the blind indexes to look up.

    ``memo`` keeps each word's keys across the texts of one page: the same words come back in
    every row of a ledger page, and each costs several keyed hashes.
    """
    memo = {} if memo is None else memo
    found: list[Candidate] = []
    for match in _A_NUMBER_CANDIDATE.finditer(text.translate(_FOLD)):
        try:
            digits = normalise_a_number(text[match.start() : match.end()])
        except ANumberError:
            continue
        if digits:
            found.append(Candidate(match.start(), match.end(), "a_number", (a_number_index(digits),)))
    taken = [(c.start, c.end) for c in found]
    for start, end in _words(text):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        word = text[start:end]
        if not any(ch.isalpha() for ch in word) or set(name_tokens(word)) <= NAME_PARTICLES:
            continue
        keys = memo.get(word)
        if keys is None:
            keys = memo[word] = tuple(name_index_keys(word))
        if keys:
            found.append(Candidate(start, end, "name", keys))
    return sorted(found, key=lambda c: c.start)


def known_keys(*, name_keys: set[str], a_number_keys: set[str]) -> set[str]:
    """Which of these blind indexes are a detainee's: one query (none when there is nothing to ask)."""
    parts: list[QuerySet[Any, str | None]] = []
    # One row per name key at most: a common name is the key of tens of thousands of people at a
    # million cases, and whether it is anyone's is all that is asked.
    parts += [
        DetaineeNameKey.objects.filter(key=key).order_by().values_list("key", flat=True)[:1]
        for key in sorted(name_keys)
    ]
    if a_number_keys:
        parts.append(
            Detainee.objects.filter(a_number_index__in=a_number_keys)
            .order_by()
            .values_list("a_number_index", flat=True)
        )
        parts.append(DetaineeANumberKey.objects.filter(key__in=a_number_keys).order_by().values_list("key", flat=True))
    if not parts:
        return set()
    first, *rest = parts
    return {key for key in (first.union(*rest, all=True) if rest else first) if key}


class Masker:
    """Masks the names and A-numbers of known detainees in ``texts`` (and in any other text, at a query each)."""

    def __init__(self, texts: Iterable[str | None] = ()) -> None:
        self._plans: dict[str, list[Candidate]] = {}
        self._known: set[str] = set()
        self._word_keys: dict[str, tuple[str, ...]] = {}  # each word's name keys, for every text of the page
        self._prepare(texts)

    def _prepare(self, texts: Iterable[str | None]) -> None:
        name_keys: set[str] = set()
        a_number_keys: set[str] = set()
        for text in texts:
            if not text or text in self._plans:
                continue
            plan = candidates(text, self._word_keys)
            self._plans[text] = plan
            for candidate in plan:
                (name_keys if candidate.kind == "name" else a_number_keys).update(candidate.keys)
        self._known |= known_keys(name_keys=name_keys, a_number_keys=a_number_keys)

    def mask(self, text: str | None) -> str:
        """``text`` with each known name replaced by "[name]" and each known A-number by "[A-number]"."""
        if not text:
            return text or ""
        if text not in self._plans:
            self._prepare([text])
        pieces: list[str] = []
        position = 0
        for candidate in self._plans[text]:
            if not self._known.intersection(candidate.keys):
                continue
            pieces.append(text[position : candidate.start])
            pieces.append(str(NAME_MASK if candidate.kind == "name" else A_NUMBER_MASK))
            position = candidate.end
        pieces.append(text[position:])
        return "".join(pieces)

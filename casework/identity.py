"""Normalising and indexing detainee identifiers, without models or a database.

Intake, duplicate detection and search all need to answer "is this the same person?" from data typed by
different people in different ways: an A-number written as ``A# 012-345-678`` or ``12345678``, a name written
``José Hernández-López`` or ``HERNANDEZ LOPEZ, Jose``. The functions here turn such input into canonical
values, and then into keyed HMAC "blind indexes" that are stored beside the (encrypted) personal data and
matched with plain equality in SQL. Personal data is never matched with an unkeyed hash (A-numbers have only
~10⁹ values, so an unkeyed hash is reversed by enumeration) or with SQL ``LIKE`` on plaintext.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from datetime import date
from typing import TYPE_CHECKING

from confusable_homoglyphs import categories  # type: ignore[import-untyped]
from confusable_homoglyphs.confusables import confusables_data  # type: ignore[import-untyped]
from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# --- A-numbers ---------------------------------------------------------------------------

A_NUMBER_HELP = _("Enter the A-number as 7 to 9 digits, with or without a leading A (for example A-012-345-678).")


class ANumberError(ValueError):
    """The input is not an A-number; ``str(error)`` is a translated message for the person who typed it.

    ``code`` ("invalid", "length" or "zeros") lets a form pass it on as ``ValidationError(..., code=...)``.
    """

    def __init__(self, message: str | StrPromise = A_NUMBER_HELP, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        # The message may be a lazy translation; resolve it in the language active when it is shown.
        return str(self.message)


def _a_number_fold_table() -> dict[int, str]:
    # Full-width forms (U+FF01-U+FF5E) come from East Asian input methods and look like ASCII to the person
    # typing, so full-width "A012…" is folded to ASCII. Dashes pasted from word processors and PDFs (en dash, minus
    # sign, non-breaking hyphen…) are folded to "-". Digits of other scripts (Arabic-Indic, Devanagari…) are
    # deliberately NOT folded: A-numbers are printed in ASCII digits on every US document, so anything else
    # is more likely a mistake than a transcription, and we ask the person to retype it.
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "  # ideographic space
    table.update(dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"), "-"))
    return table


_A_NUMBER_FOLD = _a_number_fold_table()
# An optional leading "A" (any case), optionally followed by "#", then ASCII digits mixed with whitespace,
# hyphens and dots. "A-" and "A." are covered because the body may start with separators. [0-9] rather than
# \d, which would also accept other scripts' digits.
_A_NUMBER_RE = re.compile(r"(?:[Aa]\s*#?)?(?P<body>[\s.\-]*[0-9][\s.\-0-9]*)")
_NINE_DIGITS_RE = re.compile(r"[0-9]{9}")


def normalise_a_number(raw: str | None) -> str | None:
    """Return the 9 digits of an Alien Registration Number, or ``None`` if ``raw`` is blank.

    Accepts ``A-012-345-678``, ``A012345678``, ``a 12345678``, ``012 345 678``, ``A# 012-345-678``,
    ``A.012.345.678`` and ``12345678``: an optional leading ``A``/``A#``/``A-`` in any case, then ASCII digits
    separated by any whitespace, hyphens or dots. Older A-numbers have 8 digits, and the
    oldest files 7; they are padded with leading zeros to 9, which is how USCIS writes them today. Full-width characters are folded to ASCII (see
    ``_a_number_fold_table``); invisible format characters (zero-width spaces, soft hyphens) are ignored.

    Blank input means "no A-number yet" and returns ``None``. Anything else raises ``ANumberError``: other
    letters, other scripts' digits, fewer than 7 or more than 9 digits, or all zeros.
    """
    if raw is None:
        return None
    text = raw.translate(_A_NUMBER_FOLD)
    # Copying from PDFs and web pages brings invisible characters (U+200B, U+00AD, U+FEFF) along.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    if not text:
        return None
    match = _A_NUMBER_RE.fullmatch(text)
    if match is None:
        raise ANumberError(A_NUMBER_HELP, code="invalid")
    digits = "".join(ch for ch in match["body"] if ch in "0123456789")
    if len(digits) not in (7, 8, 9):
        message = ngettext(
            "An A-number has 7 to 9 digits, but %(count)d digit was entered. "
            "Enter it with or without a leading A (for example A-012-345-678).",
            "An A-number has 7 to 9 digits, but %(count)d digits were entered. "
            "Enter it with or without a leading A (for example A-012-345-678).",
            len(digits),
        ) % {"count": len(digits)}
        raise ANumberError(message, code="length")
    digits = digits.zfill(9)
    if digits == "000000000":
        raise ANumberError(
            _("A-000-000-000 is not a real A-number. Check the number on the person's documents."), code="zeros"
        )
    return digits


def format_a_number(digits: str) -> str:
    """Display form of normalised digits: ``"012345678"`` → ``"A-012-345-678"``.

    Raises ``ValueError`` for anything but 9 ASCII digits: callers pass stored, already normalised values, so
    anything else is a programming error rather than user input.
    """
    if not _NINE_DIGITS_RE.fullmatch(digits):
        raise ValueError(f"format_a_number() expects 9 ASCII digits from normalise_a_number(), got {digits!r}")
    return f"A-{digits[:3]}-{digits[3:6]}-{digits[6:]}"


# --- Names -------------------------------------------------------------------------------

# Letters that NFKD does not decompose into a base letter plus combining marks.
_LETTER_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "œ": "oe",
        "þ": "th",
        "\u0131": "i",
    }  # U+0131 dotless i
)

# Connectives in Spanish, Portuguese, French, Dutch/German and Arabic names. They are too common to tell people
# apart and are written inconsistently ("María de la Cruz" / "Maria Cruz", "al-Hassan" / "Hassan").
NAME_PARTICLES = frozenset(
    [
        "de",
        "del",
        "la",
        "las",
        "los",
        "y",
        "e",
        "da",
        "das",
        "do",
        "dos",
        "van",
        "von",
        "al",
        "el",
        "bin",
        "ibn",
        "du",
        "le",
    ]
)

# Characters treated as token separators: any Unicode separator (Z*), punctuation (P*: hyphens, commas,
# periods, apostrophes, slashes, brackets…), symbol (S*) or control character, plus the modifier-letter
# apostrophe U+02BC that some keyboards produce for "O'Brien". Combining marks are NOT separators, so names in
# scripts whose letters carry marks (Devanagari, Arabic) stay whole.
_SEPARATOR_CATEGORIES = ("Z", "P", "S", "Cc")
_EXTRA_SEPARATORS = frozenset("\u02bc")


def _fold_name(text: str) -> str:
    """Lower-case, transliterate the letters in ``_LETTER_FOLD`` and strip accents."""
    text = text.casefold().translate(_LETTER_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    # Format characters (zero-width joiners in Persian names, soft hyphens) are dropped, not split on: they
    # sit inside words.
    kept = (ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    # Casefold again: NFKD can expose capitals that casefold() left alone (black-letter U+210C becomes "H").
    return "".join(kept).casefold().translate(_LETTER_FOLD)


def _is_separator(ch: str) -> bool:
    return ch in _EXTRA_SEPARATORS or unicodedata.category(ch).startswith(_SEPARATOR_CATEGORIES)


# What was on screen: bidi controls reorder letters, and letters of other scripts look Latin.

# Bidirectional formatting characters (Unicode UAX #9): the embeddings and overrides LRE, RLE, PDF, LRO and
# RLO (U+202A-U+202E), the isolates LRI, RLI, FSI and PDI (U+2066-U+2069) and the marks LRM, RLM (U+200E,
# U+200F) and ALM (U+061C). Invisible, they change the order in which the letters around them are shown:
# "\u202ezehcnaS" is stored z-e-h-c-n-a-S and shown "Sanchez".
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_EMBEDDINGS = {"\u202a": ("L", False), "\u202b": ("R", False), "\u202d": ("L", True), "\u202e": ("R", True)}
_ISOLATES = {"\u2066": "L", "\u2067": "R", "\u2068": "L"}  # FSI: first strong letter, always L in Latin text
_PDF, _PDI = "\u202c", "\u2069"
_MAX_DEPTH = 125  # UAX #9 BD2: deeper embeddings are ignored
# Bidirectional classes of right-to-left text: Hebrew and other RTL letters, Arabic letters and digits.
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN"})


def _shown_order(text: str) -> str:
    """``text`` (with no right-to-left letters) in the order it is shown, without its bidi controls.

    Follows UAX #9 for explicit embeddings, overrides and isolates (rules X1-X8, I1-I2 and the reordering
    L2), treating every character that is not overridden as left-to-right, which is exact for letters (with
    no right-to-left letters, a neutral character between letters takes their direction). A character and the
    combining marks after it move together (rule L3), so accents stay on their letters.
    """
    # Each entry: (embedding level, override direction or None, opened by an isolate).
    stack: list[tuple[int, str | None, bool]] = [(0, None, False)]
    overflow = 0
    levels: list[int] = []
    shown: list[str] = []  # one character with its combining marks per entry
    for ch in text:
        level, override, _isolate = stack[-1]
        if ch in _EMBEDDINGS or ch in _ISOLATES:
            direction, forced = _EMBEDDINGS.get(ch, (_ISOLATES.get(ch, "L"), False))
            new_level = (level + 1) | 1 if direction == "R" else (level + 2) & ~1
            if new_level <= _MAX_DEPTH and not overflow:
                stack.append((new_level, direction if forced else None, ch in _ISOLATES))
            else:
                overflow += 1
        elif ch == _PDI:
            if any(isolate for _level, _override, isolate in stack[1:]):
                overflow = 0
                while not stack[-1][2]:
                    stack.pop()
                stack.pop()
        elif ch == _PDF:
            if overflow:
                overflow -= 1
            elif len(stack) > 1 and not stack[-1][2]:
                stack.pop()
        elif ch in BIDI_CONTROLS:
            continue  # LRM, RLM, ALM: marks, shown as nothing
        elif unicodedata.combining(ch) and shown:
            shown[-1] += ch
        else:
            # An overridden character is right-to-left (RLO) or left-to-right (LRO); any other is left-to-right.
            right_to_left = override == "R"
            levels.append(level + 1 if right_to_left != (level % 2 == 1) else level)
            shown.append(ch)
    odd_levels = [level for level in levels if level % 2]
    if odd_levels:
        # L2: from the highest level down to the lowest odd one, reverse every run at that level or higher.
        for threshold in range(max(levels), min(odd_levels) - 1, -1):
            start = 0
            while start < len(levels):
                if levels[start] < threshold:
                    start += 1
                    continue
                end = start
                while end < len(levels) and levels[end] >= threshold:
                    end += 1
                shown[start:end] = shown[start:end][::-1]
                levels[start:end] = levels[start:end][::-1]
                start = end
    return "".join(shown)


def clean_name(raw: str | None) -> str:
    """A name as typed, ready to store and index: what the person saw, without bidi controls.

    Bidirectional controls (``BIDI_CONTROLS``) are invisible and reorder the letters around them: a
    name typed or pasted as ``"\\u202ezehcnaS"`` shows as "Sanchez" while its letters are stored the other
    way round, so duplicate detection misses it and the control stays in the record, ready to reorder
    whatever is shown next to it. For a name without right-to-left letters (Latin, Cyrillic, Greek…),
    the letters are put in the order they were shown (``_shown_order``) and the controls dropped:
    ``clean_name("\\u202ezehcnaS") == "Sanchez"``. A name with right-to-left letters (Arabic, Hebrew) is
    stored in logical order, as keyboards type it and as it is shown without the controls; only the
    controls are dropped. Also composed (NFC) and stripped of surrounding whitespace; ``None`` gives ``""``.
    """
    text = unicodedata.normalize("NFC", raw or "")
    if any(ch in BIDI_CONTROLS for ch in text):
        if any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT for ch in text if ch not in BIDI_CONTROLS):
            text = "".join(ch for ch in text if ch not in BIDI_CONTROLS)
        else:
            text = _shown_order(text)
    return text.strip()


@functools.cache
def _latin_prototypes() -> dict[str, str]:
    """Unicode's confusables (UTS #39, ``confusables.txt``) whose prototype is Latin letters (U+0430 → "a"…).

    The data comes with ``confusable-homoglyphs``, which lists each pair both ways; a source character
    (one that maps to a prototype) has exactly one entry, its prototype, while a prototype lists all its
    sources. Only sources outside ASCII whose prototype is ASCII letters are kept (about 1,350).
    """
    table: dict[str, str] = {}
    for source, entries in confusables_data.items():
        source = source.replace("\u200e", "")  # the data keeps the LRM marks of its right-to-left examples
        if len(source) != 1 or source.isascii() or len(entries) != 1:
            continue
        prototype = str(entries[0]["c"]).replace("\u200e", "")
        if prototype.isascii() and prototype.isalpha():
            table[source] = prototype
    return table


def _latin_lookalike(ch: str) -> str | None:
    """The Latin letters ``ch`` is mistaken for (its TR39 prototype, when that is Latin letters), else ``None``."""
    prototype = _latin_prototypes().get(ch)
    if prototype == "rn":
        return "m"  # TR39 maps "m" itself to "rn": a single letter drawn as "rn" looks like an m
    if prototype == "l" and ch.isupper():
        return "I"  # and "I" to "l": a capital drawn like l is a capital I
    return prototype


def _word_skeleton(word: str) -> str:
    """``word`` (decomposed, NFD) with every letter that looks like a Latin letter written as that letter.

    In a word that mixes scripts (Latin with Cyrillic, Greek…) each letter is read as drawn: "Sanchez"
    typed with a Cyrillic capital dze (U+0405) and small a (U+0430) reads "Sanchez". A word in one non-Latin
    script is read through its capitals (then its case-folded letters), so that the case in which it was
    typed does not matter: Cyrillic small ve (U+0432) is drawn like a small capital B and its capital
    (U+0412) like B, so "Vera" in Cyrillic reads "BEPA" in small letters, capitals or both. Letters with no
    Latin look-alike in any case (Cyrillic i, ya) stay as they are, so a name genuinely written in
    Cyrillic or Greek still matches itself, whatever its case.
    """
    scripts = {categories.alias(ch) for ch in word if ch.isalpha()} - {"COMMON", "INHERITED"}
    mixed = len(scripts) > 1
    letters: list[str] = []
    for ch in word:
        if ch.isascii() or not ch.isalpha() or unicodedata.normalize("NFKD", ch.casefold()).isascii():
            # ASCII, marks and separators, and letters that fold to ASCII anyway (full-width letters, the
            # long s U+017F, which TR39 would read as an f) are left to ``_fold_name``.
            letters.append(ch)
            continue
        candidates = (ch, ch.upper(), ch.lower()) if mixed else (ch.upper(), ch.casefold(), ch)
        latin = next((found for c in candidates if len(c) == 1 and (found := _latin_lookalike(c))), None)
        letters.append(latin or ch)
    return "".join(letters)


def latin_skeleton(text: str) -> str:
    """``text`` with look-alike letters of other scripts written as the Latin letters they look like.

    Unicode's TR39 "skeleton" restricted to Latin prototypes and read word by word (``_word_skeleton``):
    ``latin_skeleton("\u0405\u0430nchez")`` (Cyrillic dze and a) is ``"Sanchez"``. ASCII is never changed, nor is a
    letter whose prototype is not Latin letters, so the keys of names typed in Latin letters are what they
    were. Separators are kept where they are.
    """
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    word: list[str] = []
    for ch in [*decomposed, " "]:  # a trailing separator flushes the last word
        if _is_separator(ch):
            if word:
                out.append(_word_skeleton("".join(word)))
                word = []
            out.append(ch)
        else:
            word.append(ch)
    return "".join(out)[:-1]


def name_tokens(*names: str | None) -> list[str]:
    """Split names into lower-case, accent-free tokens, dropping connective particles.

    ``"José Hernández-López"``, ``"jose hernandez lopez"`` and ``"Hernandez Lopez, Jose"`` all give
    ``jose``, ``hernandez`` and ``lopez``. Tokens are unique, in order of first appearance. Particles in
    ``NAME_PARTICLES`` are dropped unless every token is a particle (so a name such as "De" or "Le" is not
    lost). ``None`` and blank arguments are skipped, so optional name fields can be passed as they are.

    Names are read as they were shown (``clean_name``: a name reversed with U+202E gives the tokens of the
    name on screen) and letters of other scripts that look Latin are read as those Latin letters
    (``latin_skeleton``: "Sanchez" typed with Cyrillic look-alikes gives ``sanchez``).
    """
    tokens: list[str] = []
    for name in names:
        if not name:
            continue
        folded = _fold_name(latin_skeleton(clean_name(name)))
        word: list[str] = []
        for ch in [*folded, " "]:  # a trailing separator flushes the last word
            if _is_separator(ch):
                if word:
                    tokens.append("".join(word))
                    word = []
            else:
                word.append(ch)
    unique = list(dict.fromkeys(tokens))
    meaningful = [token for token in unique if token not in NAME_PARTICLES]
    return meaningful or unique


_VOWELS = frozenset("aeiouy")


def name_key(token: str) -> str:
    """A transliteration-tolerant key for one name token, so common spelling variants collide.

    The key is a consonant skeleton built from the accent-free, lower-case token (``_fold_name``, after
    ``latin_skeleton`` has read look-alike letters of other scripts as Latin) by these rules, applied left
    to right:

    1. Digraphs: ``sch``, ``sh`` and ``ch`` → one "sh" sound (``x``), so Schwez/Shvets and Chérif/Sharif
       collide; ``ph`` → ``f`` (Phillip/Filip); ``ts`` and ``tz`` → ``s`` (Shvets/Schwez, Schwartz/Schwarz).
    2. ``c`` before ``e``/``i``/``y`` → ``s`` (Latin-American seseo: Cecilia/Sesilia); any other ``c`` → ``k``
       (Catherine/Katherine; ``ck`` becomes ``kk`` and collapses). ``q`` → ``k``. ``x`` → ``ks``
       (Alexander/Aleksander).
    3. ``z`` → ``s`` (Hernández/Hernandes). ``v`` and ``w`` → ``b`` (Spanish b/v; w as in Wadim/Vadim).
    4. ``g`` → ``j`` everywhere: Jorge/Jorje/George, Gamal/Jamal, Guillermo/Gillermo (the ``u`` of ``gu`` is a
       vowel and is dropped by rule 7 anyway, as is the ``u`` of ``qu``).
    5. ``h`` is kept only as the first letter or between two vowels, where it is pronounced in the Arabic names
       it most often appears in; elsewhere it is silent or a transliteration mark and is dropped
       (Sarah/Sara, Ahmed/Amed, Rahman/Raman, Jhon/John, Thomas/Tomas, Khaled/Kaled). Keeping it between
       vowels is what keeps Mohammed (``mhmd``) apart from Mahmoud (``mmd``).
    6. Doubled letters are collapsed after these substitutions (Mohammed/Mohamed, Youssef/Yousef, Phillip).
    7. Vowels (``a e i o u``, and ``y`` except as the first letter) are dropped, but a leading vowel is kept as
       ``a`` so Omar/Umar and Ibrahim/Ebrahim collide while Ana (``an``) and Ines (``ans``) stay apart.

    Examples: Mohammed, Muhammad, Mohamed, Muhamad → ``mhmd``; Yusuf, Yousef, Youssef → ``ysf``;
    Hernández → ``hrnnds``; Jose → ``js``, Juan → ``jn``; Lopez → ``lps``, Perez → ``prs``.

    The key is deliberately coarse (Maria and Mario collide, as do John and Juan); duplicate detection also
    requires the same date of birth. Tokens that are not purely ASCII letters after folding (other scripts,
    digits) are returned folded but otherwise unchanged, so they match only exactly. Changing these rules
    changes stored keys, so it requires re-indexing names.
    """
    word = "".join(ch for ch in _fold_name(latin_skeleton(token)) if not _is_separator(ch))
    if not word or not (word.isascii() and word.isalpha()):
        return word

    symbols: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if word.startswith("sch", i):
            symbols.append("x")
            i += 3
            continue
        if ch in "sc" and nxt == "h":
            symbols.append("x")
            i += 2
            continue
        if ch == "p" and nxt == "h":
            symbols.append("f")
            i += 2
            continue
        if ch == "t" and nxt in ("s", "z"):
            symbols.append("s")
            i += 2
            continue
        if ch == "c":
            symbols.append("s" if nxt in ("e", "i", "y") else "k")
        elif ch == "q":
            symbols.append("k")
        elif ch == "x":
            symbols.extend(("k", "s"))
        elif ch == "z":
            symbols.append("s")
        elif ch in ("v", "w"):
            symbols.append("b")
        elif ch == "g":
            symbols.append("j")
        elif ch == "h":
            prev = word[i - 1] if i else ""
            if i == 0 or (prev in _VOWELS and nxt in _VOWELS):
                symbols.append("h")
        elif ch == "y" and i > 0:
            symbols.append("a")  # a vowel; any vowel symbol works, only its position matters
        elif ch in _VOWELS - {"y"}:
            symbols.append("a")
        else:
            symbols.append(ch)
        i += 1

    collapsed = [sym for n, sym in enumerate(symbols) if n == 0 or sym != symbols[n - 1]]
    # Only the first symbol may be a vowel ("a"); vowels inside the word are dropped.
    return collapsed[0] + "".join(sym for sym in collapsed[1:] if sym != "a")


def name_keys(*names: str | None) -> list[str]:
    """``name_key`` of each of ``name_tokens(*names)``: unique, in order of first appearance, never empty."""
    keys = (name_key(token) for token in name_tokens(*names))
    return list(dict.fromkeys(key for key in keys if key))


def required_matches(query_key_count: int) -> int:
    """How many of a query's name keys a stored name must share to count as "similar".

    60% of the query's keys, rounded up, but at least two when the query has two or more: with one shared key
    out of two, every "José <anything>" would match "José Hernández". 1→1, 2→2, 3→2, 4→3, 5→3, 6→4.
    """
    if query_key_count < 0:
        raise ValueError("query_key_count must not be negative")
    # Integer arithmetic: math.ceil(0.6 * 5) is 4 because 0.6 * 5 == 3.0000000000000004.
    return max((3 * query_key_count + 4) // 5, min(query_key_count, 2))


# --- Blind indexes -----------------------------------------------------------------------


def _blind_index_key() -> bytes:
    """The HMAC key for blind indexes.

    Production sets ``BLIND_INDEX_KEY`` (bytes, or a str encoded as UTF-8) to its own random secret, so that
    rotating ``SECRET_KEY`` (sessions, password reset links) does not invalidate every stored index. Without it
    a key is derived from ``SECRET_KEY`` so development and tests work. Changing whichever key is in use
    requires re-computing every stored index, or searches and duplicate checks silently stop matching.
    """
    key = getattr(settings, "BLIND_INDEX_KEY", None)
    if key:
        return force_bytes(key)
    # Derived rather than used directly so the index key is not the very key Django signs cookies with.
    return hmac.new(force_bytes(settings.SECRET_KEY), b"amparo.blind-index.v1", hashlib.sha256).digest()


def blind_index(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 (64 characters) of ``purpose + "\\x00" + value`` under the blind index key.

    ``purpose`` separates index namespaces ("a_number", "name"), so equal values indexed for different purposes
    cannot be correlated. It may not contain NUL, which keeps the encoding unambiguous. ``value`` must already
    be normalised: the index only matches byte-identical input.
    """
    if not purpose or "\x00" in purpose:
        raise ValueError("purpose must be a non-empty string without NUL characters")
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(_blind_index_key(), message, hashlib.sha256).hexdigest()


def a_number_index(digits: str) -> str:
    """Blind index of normalised A-number digits (from ``normalise_a_number``)."""
    # An index of un-normalised input would be stored happily and never match anything, so refuse it.
    if not _NINE_DIGITS_RE.fullmatch(digits):
        raise ValueError(f"a_number_index() expects 9 ASCII digits from normalise_a_number(), got {digits!r}")
    return blind_index(digits, purpose="a_number")


def name_index_keys(*names: str | None) -> list[str]:
    """Blind indexes of ``name_keys(*names)``, in the same order."""
    return [blind_index(key, purpose="name") for key in name_keys(*names)]


def date_of_birth_index(born: date | None) -> str | None:
    """Blind index of a date of birth: duplicate detection matches it alongside the name keys."""
    return blind_index(born.isoformat(), purpose="date_of_birth") if born else None


def key_fingerprint() -> str:
    """A fingerprint of the blind-index key in use (a blind index of a fixed text, in its own namespace).

    Stored beside the data (``casework.models.BlindIndexKeyFingerprint``): under any other key every
    stored index silently stops matching, so the app refuses to start on a mismatch.
    """
    return blind_index("amparo: which key made these indexes?", purpose="key_fingerprint")[:16]

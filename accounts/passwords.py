"""Amparo's password rules (ASVS 6.1.2, 6.2.4, 6.2.5, 6.2.11, 6.2.12): length, and what is guessable.

``AUTH_PASSWORD_VALIDATORS`` (the passwords block of ``amparo/settings.py``) applies, on every
password that is set (invitation, reset, change):

1. Django's ``UserAttributeSimilarityValidator`` (not close to one's e-mail address or name);
2. Django's ``MinimumLengthValidator``: at least 10 characters. There is no maximum: passphrases of
   64 characters and more are welcome;
3. ``CommonPasswordValidator`` here: not on Django's list of 19,640 common passwords, nor such a
   password with digits, punctuation or spaces put before or after it (see the class);
4. ``ContextWordsValidator`` here: no word that is easy to guess at Amparo (the list below);
5. ``BreachedPasswordValidator`` here: not in the Have I Been Pwned "Pwned Passwords" corpus,
   asked through its k-anonymity range API (only the first 5 hex digits of the password's SHA-1
   leave the server), or a mirror of it (``PWNED_PASSWORDS_API_URL``).

There are no composition rules (no "must contain a digit", no "not only digits"): length and the
lists do that job better (ASVS 6.2.5).

**The context words** (6.1.2, 6.2.11). A password is refused when its letters contain one of:

* ``amparo``, ``password``, ``contraseña``;
* every word of 4 letters or more of the fund's legal name (``FUND_LEGAL_NAME``) and of the name
  authenticator apps show (``MFA_TOTP_ISSUER``);
* the staff roles: their names (``intake``, ``attorney``, ``supervisor``, ``finance``, ``auditor``,
  ``admin``) and the words of 4 letters or more of their titles, in English and Spanish;
* the words an installation adds (``PASSWORD_CONTEXT_WORDS``: the city, the building);
* the person's own e-mail address before the ``@``, whole and each part of 4 letters or more.

"Contain" is checked on the password's letters alone, case and accents folded: digits,
punctuation and spaces around or between the words do not hide them ("Amparo-2026!",
"legal defense 4ever").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from pwned_passwords_django.api import PwnedPasswords
from pwned_passwords_django.exceptions import PwnedPasswordsError

from accounts.mfa import security_event
from accounts.roles import Role

# Words shorter than this match inside too many unrelated passwords to be worth refusing.
MIN_WORD_LETTERS = 4
BASE_CONTEXT_WORDS = ("amparo", "password", "contraseña")
# Digits, punctuation and spaces at either end of a password (the variants of a common password).
_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def letters(text: str) -> str:
    """The letters of ``text``, case and accents folded (``"Contraseña-1"`` → ``"contrasena"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c))


def _words(text: str) -> set[str]:
    """The folded words of ``text`` that are long enough to be refused."""
    return {w for w in (letters(part) for part in re.split(r"[\W\d_]+", text)) if len(w) >= MIN_WORD_LETTERS}


def site_context_words() -> set[str]:
    """The words refused in every password (the list in the module docstring, but the e-mail part)."""
    words = {letters(w) for w in BASE_CONTEXT_WORDS}
    for name in (settings.FUND_LEGAL_NAME, settings.MFA_TOTP_ISSUER, *settings.PASSWORD_CONTEXT_WORDS):
        words |= _words(name)
    for role in Role:
        words.add(letters(role.value))
        for language in ("en", "es"):
            with translation.override(language):
                words |= _words(str(role.label))
    return words


def personal_context_words(user: Any) -> set[str]:
    """The words of ``user``'s e-mail address before the ``@``: whole, and each part."""
    email = str(getattr(user, "email", "") or "")
    local = email.rsplit("@", 1)[0] if "@" in email else ""
    words = _words(local)
    whole = letters(local)
    if len(whole) >= MIN_WORD_LETTERS:
        words.add(whole)
    return words


class ContextWordsValidator:
    """Refuse a password whose letters contain a word of the documented list (module docstring)."""

    def validate(self, password: str, user: Any = None) -> None:
        folded = letters(password)
        words = site_context_words() | (personal_context_words(user) if user is not None else set())
        if any(word in folded for word in words):
            raise ValidationError(
                _(
                    "This password contains a word that is easy to guess here: the name of Amparo or of the "
                    "fund, a staff role, “password”, or part of your e-mail address. Choose another one."
                ),
                code="password_context_word",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password cannot contain the name of Amparo or of the fund, a staff role, “password”, "
            "or part of your e-mail address."
        )


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's common-password list, and the passwords made from it by adding digits or punctuation.

    Refused: a password whose lower-cased form is on the list (Django's own rule), or whose
    lower-cased form with the digits, punctuation and spaces at its start and end removed is an
    entry of 4 or more characters (``"Sunshine2024!"``, ``"!!dragon12345"``). Django's list has
    19,640 entries but only 1,780 of 10 characters or more, our minimum; with this rule the 9,180
    entries of 4 or more characters that begin and end with a letter each stand for every
    10-character variant of them, so far more than 3,000 passwords that fit the policy are refused
    (ASVS 6.2.4).
    """

    def validate(self, password: str, user: Any = None) -> None:
        super().validate(password, user)
        stem = _AROUND.sub("", password.lower().strip())
        if len(stem) >= MIN_WORD_LETTERS and stem in self.passwords:
            raise ValidationError(self.get_error_message(), code="password_too_common")


@lru_cache(maxsize=4)
def _breach_client(endpoint: str) -> PwnedPasswords:
    """pwned-passwords-django's client, asking ``endpoint`` (the public API or a mirror)."""
    client = PwnedPasswords()
    client.api_endpoint = endpoint
    return client


class BreachedPasswordValidator:
    """Refuse a password found in data breaches (Pwned Passwords, through pwned-passwords-django).

    ``PWNED_PASSWORDS_API_URL`` is the range API to ask (the public one, or a self-hosted mirror);
    empty turns the check off (development, tests). When the API cannot be reached or answers an
    error, the check fails open to the common-password rule (``CommonPasswordValidator``) and says
    so in the security log, with the error's kind only: the password, its hash and its hash
    prefix are never logged.
    """

    def __init__(self) -> None:
        self.fallback = CommonPasswordValidator()

    def validate(self, password: str, user: Any = None) -> None:
        endpoint: str = settings.PWNED_PASSWORDS_API_URL
        if not endpoint:
            return
        try:
            found = _breach_client(endpoint).check_password(password)
        except PwnedPasswordsError as error:
            security_event(
                "breached-password check unavailable; checked against the common-password list instead",
                user_id=getattr(user, "pk", None),
                ip_address=None,
                level=logging.WARNING,
                reason=getattr(error.code, "value", "unknown"),
            )
            self.fallback.validate(password, user)
            return
        if found:
            raise ValidationError(
                _("This password has appeared in a data breach, so attackers will try it early. Choose another one."),
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be one that has appeared in a known data breach.")

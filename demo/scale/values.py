"""Personal values encrypted and blind-indexed by the app's own functions, once per value.

* every personal field is encrypted one value at a time by the model field itself
  (``EncryptedTextField.get_prep_value``: AES-256-GCM with a fresh nonce). No ciphertext is reused:
  two people called José have two different ciphertexts, as in production, so nothing seeded is
  faster to read or to compare than real data would be;
* the blind indexes come from ``casework.identity`` (``a_number_index``, ``name_index_keys``,
  ``date_of_birth_index``) and ``funds.identity.donor_email_index``. They are deterministic (keyed
  HMAC), so the keys of a name or a birth date seen before come from a cache of the very values
  those functions returned: search and the duplicate check find these people exactly as they find
  people registered through the intake form (``checks.check_sample`` recomputes a sample).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Model

from casework.identity import blind_index, date_of_birth_index, name_index_keys, name_key, name_tokens
from casework.models import Case, Detainee, FamilyContact, Note
from funds.models import Donor

# The first people of a run have their name keys compared with ``name_index_keys`` itself.
VERIFIED_NAMES = 5000


def _encrypter(model: type[Model], field: str) -> Callable[[Any], Any]:
    prep = model._meta.get_field(field).get_prep_value  # type: ignore[union-attr]
    return lambda value: prep(value) if value not in ("", None) else value


class Values:
    """The encrypters and the caches of one run (the caches hold values of the current keys only)."""

    def __init__(self) -> None:
        self.enc = {
            "given": _encrypter(Detainee, "given_names"),
            "family": _encrypter(Detainee, "family_names"),
            "other": _encrypter(Detainee, "other_names"),
            "a_number": _encrypter(Detainee, "a_number"),
            "other_a": _encrypter(Detainee, "other_a_numbers"),
            "dob": _encrypter(Detainee, "date_of_birth"),
            "contact_name": _encrypter(FamilyContact, "name"),
            "contact_phone": _encrypter(FamilyContact, "phone"),
            "where": _encrypter(Case, "detained_where"),
            "note": _encrypter(Note, "body"),
            "donor_email": _encrypter(Donor, "email"),
            "donor_name": _encrypter(Donor, "name"),
        }
        self.stats: dict[str, float] = defaultdict(float)
        self._dob: dict[date, str | None] = {}
        self._tokens: dict[str, list[str]] = {}
        self._token_index: dict[str, str] = {}
        self._verified = 0

    @property
    def name_cache_entries(self) -> int:
        return len(self._tokens)

    def name_keys(self, given: str, family: str, other: str) -> list[str]:
        """``name_index_keys(given, family, other)``, from the app's functions applied to each name once.

        ``name_tokens`` reads each name on its own and joins the tokens (unique, in order); it drops
        particles unless *every* token is one, which never happens here (every given name in
        ``names.GIVEN`` is a real name). So the joined per-name results are the joint result; the
        first ``VERIFIED_NAMES`` people and ``checks.check_sample`` compare it with
        ``name_index_keys`` itself.
        """
        tokens: list[str] = []
        for name in (given, family, other):
            if not name:
                continue
            found = self._tokens.get(name)
            if found is None:
                found = self._tokens[name] = name_tokens(name)
            tokens.extend(found)
        keys: list[str] = []
        for token in dict.fromkeys(tokens):
            index = self._token_index.get(token)
            if index is None:
                word = name_key(token)
                index = self._token_index[token] = blind_index(word, purpose="name") if word else ""
            if index and index not in keys:
                keys.append(index)
        if self._verified < VERIFIED_NAMES:
            self._verified += 1
            assert keys == name_index_keys(given, family, other), (given, family, other)
        return keys

    def dob_index(self, born: date) -> str | None:
        found = self._dob.get(born)
        if found is None:
            found = self._dob[born] = date_of_birth_index(born)
        return found


def a_number_for(n: int) -> str:
    """The n-th A-number: a bijection of n onto 9 digits (48271 is prime to 900,000,000), unique, unordered."""
    return str(100_000_000 + (n * 48271 + 12345) % 900_000_000)

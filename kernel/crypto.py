"""Authenticated encryption of personal data at rest, with keys that can be rotated.

The cipher is AES-256-GCM from the ``cryptography`` package (an AEAD: it encrypts and authenticates in
one step, so a changed byte is refused instead of decrypted into garbage). Nothing here is a cipher of
our own: this module only chooses the key, the nonce and the framing.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS``: a list of 32-byte keys, **newest first**. New values
are always encrypted with the first key; any key in the list decrypts. Rotating a key is therefore:
put a new key in front, deploy, run ``manage.py reencrypt`` (which rewrites every value and file still
under an older key), then drop the old key. Each ciphertext names the key that made it by an 8-hex
*key id* (the start of a SHA-256 of the key, which reveals nothing usable about the key), so decryption
picks the key directly, and a value under a key that is no longer configured is an error naming that id.

Framing:

* a text value is ``"v1." + key_id + "." + base64url(nonce ‖ ciphertext ‖ tag)``, ASCII, stored in a
  text column;
* a file is ``b"AMPARO-ENC1" + key_id + nonce + ciphertext ‖ tag``.

The *associated data* binds a value to where it belongs (``"casework.detainee.given_names"``, or
``"file"``), so a ciphertext copied into another column does not decrypt there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_CHARS = 8
TEXT_PREFIX = "v1."
FILE_MAGIC = b"AMPARO-ENC1"
# What sealing adds to a file: the header, the key id, the nonce and GCM's 16-byte tag.
SEALED_OVERHEAD = len(FILE_MAGIC) + KEY_ID_CHARS + NONCE_BYTES + 16


class DecryptionError(Exception):
    """A stored value could not be decrypted: unknown key, damaged or moved ciphertext.

    The message names the key id and the place, never the value.
    """


def key_id(key: bytes) -> str:
    """The 8 hex characters that name ``key`` in its ciphertexts."""
    return hashlib.sha256(b"amparo.field-key-id\x00" + key).hexdigest()[:KEY_ID_CHARS]


def parse_keys(text: str) -> list[bytes]:
    """Comma-separated base64 (standard or URL-safe) 32-byte keys → bytes; loud on anything else."""
    keys = []
    for n, item in enumerate((part.strip() for part in text.split(",")), start=1):
        if not item:
            continue
        try:
            standard = item.replace("-", "+").replace("_", "/").rstrip("=")
            key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"Encryption key number {n} is not base64.") from exc
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"Encryption key number {n} is {len(key)} bytes; it must be {KEY_BYTES}.")
        keys.append(key)
    return keys


def new_key() -> str:
    """A fresh random key, as the text to put in ``FIELD_ENCRYPTION_KEYS``."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


@dataclass(frozen=True)
class Keyring:
    """The configured keys: the first encrypts, all decrypt."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: at least one key is needed.")
        ids = [key_id(k) for k in self.keys]
        if len(set(ids)) != len(ids):
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS lists the same key twice.")

    @property
    def primary_id(self) -> str:
        return key_id(self.keys[0])

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.keys)

    def _cipher(self, wanted: str, place: str) -> AESGCM:
        for key in self.keys:
            if key_id(key) == wanted:
                return AESGCM(key)
        raise DecryptionError(
            f"{place} is encrypted with key {wanted}, which is not in FIELD_ENCRYPTION_KEYS "
            f"(configured: {', '.join(self.ids)})."
        )

    # --- text values ---------------------------------------------------------------------

    def encrypt_text(self, value: str, *, place: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, value.encode(), place.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{TEXT_PREFIX}{self.primary_id}.{body}"

    def decrypt_text(self, token: str, *, place: str) -> str:
        wanted = text_key_id(token)
        if wanted is None:
            raise DecryptionError(f"{place} holds a value that is not encrypted (run manage.py reencrypt).")
        body = token[len(TEXT_PREFIX) + KEY_ID_CHARS + 1 :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._cipher(wanted, place).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], place.encode())
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise DecryptionError(f"{place} holds a damaged or misplaced ciphertext (key {wanted}).") from exc
        return plain.decode()

    # --- files ---------------------------------------------------------------------------

    def encrypt_bytes(self, data: bytes, *, place: str = "file") -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, data, place.encode())
        return FILE_MAGIC + self.primary_id.encode() + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, place: str = "file") -> bytes:
        wanted = bytes_key_id(blob)
        if wanted is None:
            raise DecryptionError(f"{place} is not encrypted (run manage.py reencrypt).")
        start = len(FILE_MAGIC) + KEY_ID_CHARS
        try:
            return self._cipher(wanted, place).decrypt(
                blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :], place.encode()
            )
        except InvalidTag as exc:
            raise DecryptionError(f"{place} is damaged (key {wanted}).") from exc


def text_key_id(token: str) -> str | None:
    """The key id of an encrypted text value, or None if ``token`` is not one."""
    if (
        not token.startswith(TEXT_PREFIX)
        or token[len(TEXT_PREFIX) + KEY_ID_CHARS : len(TEXT_PREFIX) + KEY_ID_CHARS + 1] != "."
    ):
        return None
    wanted = token[len(TEXT_PREFIX) : len(TEXT_PREFIX) + KEY_ID_CHARS]
    return wanted if all(c in "0123456789abcdef" for c in wanted) else None


def bytes_key_id(blob: bytes) -> str | None:
    """The key id of an encrypted file's content, or None if it is not one."""
    if not blob.startswith(FILE_MAGIC):
        return None
    wanted = blob[len(FILE_MAGIC) : len(FILE_MAGIC) + KEY_ID_CHARS]
    try:
        text = wanted.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if len(text) == KEY_ID_CHARS and all(c in "0123456789abcdef" for c in text) else None


@cache
def keyring() -> Keyring:
    """The keyring from settings (cached; reset when a test overrides the setting)."""
    return Keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


@receiver(setting_changed)
def _reset_keyring(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        keyring.cache_clear()

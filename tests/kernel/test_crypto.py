"""Field encryption: what is stored cannot be read, moved or altered, and keys rotate without loss."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from kernel.crypto import DecryptionError, Keyring, key_id, new_key, parse_keys, text_key_id

OLD = base64.b64encode(b"an-older-key-for-rotation-tests!").decode()
NEW = base64.b64encode(b"the-newest-key-for-rotation-test").decode()


def test_a_value_round_trips_and_each_encryption_differs():
    ring = Keyring(tuple(parse_keys(NEW)))

    first = ring.encrypt_text("José Hernández", place="casework.detainee.given_names")
    second = ring.encrypt_text("José Hernández", place="casework.detainee.given_names")

    assert first != second  # a fresh nonce every time: equal names do not give equal ciphertexts
    assert "Jos" not in first
    assert ring.decrypt_text(first, place="casework.detainee.given_names") == "José Hernández"
    assert text_key_id(first) == key_id(parse_keys(NEW)[0])


def test_a_ciphertext_moved_to_another_column_or_altered_is_refused():
    ring = Keyring(tuple(parse_keys(NEW)))
    token = ring.encrypt_text("555-0100", place="casework.familycontact.phone")

    with pytest.raises(DecryptionError, match="damaged or misplaced"):
        ring.decrypt_text(token, place="casework.detainee.a_number")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(DecryptionError, match="damaged or misplaced"):
        ring.decrypt_text(flipped, place="casework.familycontact.phone")
    with pytest.raises(DecryptionError, match="not encrypted"):
        ring.decrypt_text("555-0100", place="casework.familycontact.phone")


def test_a_value_under_a_key_no_longer_configured_names_that_key_not_the_value():
    token = Keyring(tuple(parse_keys(OLD))).encrypt_text("Secret Name", place="x.y.z")

    with pytest.raises(DecryptionError) as error:
        Keyring(tuple(parse_keys(NEW))).decrypt_text(token, place="x.y.z")

    assert key_id(parse_keys(OLD)[0]) in str(error.value)
    assert "Secret" not in str(error.value)


def test_files_round_trip_and_are_bound_to_their_framing():
    ring = Keyring(tuple(parse_keys(NEW)))
    sealed = ring.encrypt_bytes(b"%PDF-1.7 passport scan")

    assert b"PDF" not in sealed and b"passport" not in sealed
    assert ring.decrypt_bytes(sealed) == b"%PDF-1.7 passport scan"
    with pytest.raises(DecryptionError, match="damaged"):
        ring.decrypt_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_keys_must_be_32_bytes_of_base64_and_not_repeated():
    assert len(parse_keys(new_key())[0]) == 32
    with pytest.raises(ImproperlyConfigured, match="5 bytes"):
        parse_keys("c2hvcnQ=")
    with pytest.raises(ImproperlyConfigured, match="not base64"):
        parse_keys("not base64!")
    with pytest.raises(ImproperlyConfigured, match="same key twice"):
        Keyring(tuple(parse_keys(f"{NEW},{NEW}")))


def test_a_sealed_file_is_its_content_plus_a_fixed_overhead():
    from kernel.crypto import SEALED_OVERHEAD

    ring = Keyring(tuple(parse_keys(NEW)))

    for content in (b"", b"x", b"%PDF-1.7" * 1000):
        assert len(ring.encrypt_bytes(content)) == len(content) + SEALED_OVERHEAD

"""Re-encrypting what is stored under an older field key (``manage.py reencrypt``).

Generic on purpose: it finds every ``EncryptedTextField`` of every installed model and every file in
the encrypted storage, so a new encrypted field needs no change here. Values sealed where that scan
cannot see them (inside a JSON column of a third-party model, such as allauth's authenticator
secrets) are re-sealed by the app that seals them, through the ``reencrypting`` signal.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.dispatch import Signal

from kernel.crypto import bytes_key_id, keyring, text_key_id
from kernel.fields import EncryptedTextField
from kernel.storage import EncryptedFileSystemStorage, EncryptedS3Storage, stored_files

_BATCH = 500

# Sent by ``reencrypt`` after the encrypted fields, with ``dry_run``. A receiver re-seals the values
# it owns that are not under the newest key (unless ``dry_run``) and returns ``(found, rewritten)``:
# a ``Counter`` of the values it found by key id (``"plain"`` for unsealed ones) and how many it
# rewrote. Both are added to the ``Tally``.
reencrypting = Signal()


@dataclass
class Tally:
    """What was found (by key id, ``"plain"`` for unencrypted) and how much was rewritten."""

    values: Counter[str] = field(default_factory=Counter)
    files: Counter[str] = field(default_factory=Counter)
    rewritten_values: int = 0
    rewritten_files: int = 0

    @property
    def behind(self) -> int:
        """Values and files not under the newest key."""
        primary = keyring().primary_id
        return sum(n for k, n in self.values.items() if k != primary) + sum(
            n for k, n in self.files.items() if k != primary
        )


def encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(table, primary-key column, column, place) of every encrypted field."""
    found = []
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedTextField):
                pk_column, column = model._meta.pk.column if model._meta.pk else "id", f.column
                found.append((model._meta.db_table, str(pk_column), str(column), f.place))
    return found


def reencrypt(*, dry_run: bool = False) -> Tally:
    """Rewrite every value and file that is not under the newest key (or not encrypted at all).

    Each batch of rows is one transaction; a file is replaced atomically. Safe to interrupt and
    run again. With ``dry_run`` only counts.
    """
    tally = Tally()
    ring = keyring()
    quote = connection.ops.quote_name
    for table, pk, column, place in encrypted_columns():
        last = None
        while True:
            with transaction.atomic():
                where = "" if last is None else f"WHERE {quote(pk)} > %s "
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} {where}"  # noqa: S608 - names, not input
                        f"ORDER BY {quote(pk)} LIMIT {_BATCH}",
                        [] if last is None else [last],
                    )
                    rows = cursor.fetchall()
                    for row_pk, value in rows:
                        if value is None or value == "":
                            continue
                        kid = text_key_id(value) or "plain"
                        tally.values[kid] += 1
                        if kid == ring.primary_id or dry_run:
                            continue
                        plain = value if kid == "plain" else ring.decrypt_text(value, place=place)
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                            [ring.encrypt_text(plain, place=place), row_pk],
                        )
                        tally.rewritten_values += 1
            if len(rows) < _BATCH:
                break
            last = rows[-1][0]
    for _receiver, result in reencrypting.send(sender=Tally, dry_run=dry_run):
        if isinstance(result, tuple):
            found, rewritten = result
            tally.values.update(found)
            tally.rewritten_values += rewritten
    if isinstance(default_storage, EncryptedS3Storage):
        # A bucket: each object's key id from its first bytes, and a rewrite is one whole PUT.
        bucket = default_storage
        for stored in list(stored_files(storage=bucket)):
            kid = bucket.sealed_key_id(stored.name) or "plain"
            tally.files[kid] += 1
            if kid != ring.primary_id and not dry_run and bucket.rewrite_with_newest_key(stored.name):
                tally.rewritten_files += 1
        return tally
    for storage, path, head in list(_stored_files()):
        if path.endswith((".reencrypt", ".open")):
            continue  # a rewrite interrupted half-way: the original is still in place
        kid = bytes_key_id(head) or "plain"
        tally.files[kid] += 1
        relative = os.path.relpath(path, storage.location)
        if kid != ring.primary_id and not dry_run and storage.rewrite_with_newest_key(relative):
            tally.rewritten_files += 1
    return tally


# --- For data migrations: historical models in, no live model code ------------------------


def _columns_pass(model: type, names: list[str], convert: object) -> None:
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column  # type: ignore[attr-defined]
    for name in names:
        column = model._meta.get_field(name).column  # type: ignore[attr-defined]
        place = f"{model._meta.label_lower}.{name}"  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)}")  # noqa: S608 - names only
            rows = cursor.fetchall()
            for row_pk, value in rows:
                new = convert(value, place)  # type: ignore[operator]
                if new != value:
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                        [new, row_pk],
                    )


def _seal(value: object, place: str) -> object:
    if value is None or value == "" or text_key_id(str(value)) is not None:
        return value
    return keyring().encrypt_text(str(value), place=place)


def _open(value: object, place: str) -> object:
    if value is None or value == "" or text_key_id(str(value)) is None:
        return value
    return keyring().decrypt_text(str(value), place=place)


def seal_columns(model: type, names: list[str]) -> None:
    """Encrypt the plain values of ``model``'s columns ``names`` in place (a migration's forward step)."""
    _columns_pass(model, names, _seal)


def open_columns(model: type, names: list[str]) -> None:
    """Decrypt them back to plain text (the migration's backward step)."""
    _columns_pass(model, names, _open)


def _stored_files() -> Iterator[tuple[EncryptedFileSystemStorage, str, bytes]]:
    """(storage, path, first bytes) of every file in the encrypted private storage."""
    storage = default_storage
    if not isinstance(storage, EncryptedFileSystemStorage) or not os.path.isdir(storage.location):
        return
    for folder, _dirs, names in os.walk(storage.location):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                yield storage, path, handle.read(64)


def seal_files() -> int:
    """Encrypt every plain file of the private storage in place (a migration's forward step)."""
    count = 0
    for storage, path, head in list(_stored_files()):
        if bytes_key_id(head) is None and storage.rewrite_with_newest_key(os.path.relpath(path, storage.location)):
            count += 1
    return count


def open_files() -> int:
    """Decrypt every sealed file of the private storage in place (a migration's backward step)."""
    count = 0
    for _storage, path, head in list(_stored_files()):
        if bytes_key_id(head) is None:
            continue
        with open(path, "rb") as handle:
            blob = handle.read()
        with open(f"{path}.open", "wb") as handle:
            handle.write(keyring().decrypt_bytes(blob))
        os.replace(f"{path}.open", path)  # atomic: the sealed file or the opened one, never half
        count += 1
    return count

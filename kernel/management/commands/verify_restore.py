"""``manage.py verify_restore``: after a restore, can this installation read everything it holds?

Generic on purpose (it iterates the installed models, as ``kernel.rotation`` does): every value of
every encrypted field is decrypted, every file every ``FileField`` names is opened (decrypted) and,
where the row keeps its SHA-256 (``sha256`` beside a model's only file field, or ``<field>_sha256``),
checked against it; then each of ``settings.KEY_CHECKS`` runs (the blind-index key's fingerprint
against the stored one: a restore under another ``BLIND_INDEX_KEY`` would silently stop duplicate
detection). It prints counts, never a value, and exits non-zero on any failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models
from django.utils.module_loading import import_string

from kernel.crypto import DecryptionError, keyring
from kernel.rotation import encrypted_columns

_BATCH = 500


def _encrypted_values(table: str, pk: str, column: str) -> Iterator[tuple[Any, str]]:
    quote = connection.ops.quote_name
    last = None
    while True:
        where = "" if last is None else f"WHERE {quote(pk)} > %s "
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} {where}"  # noqa: S608 - names, not input
                f"ORDER BY {quote(pk)} LIMIT {_BATCH}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
        for row_pk, value in rows:
            if value not in (None, ""):
                yield row_pk, value
        if len(rows) < _BATCH:
            return
        last = rows[-1][0]


def _file_fields() -> Iterator[tuple[type[models.Model], models.FileField, str | None]]:
    """(model, file field, name of the field holding its SHA-256 or None) for every ``FileField``."""
    for model in apps.get_models():
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        names = {f.name for f in model._meta.concrete_fields}
        for field in file_fields:
            digest: str | None = None
            if f"{field.name}_sha256" in names:
                digest = f"{field.name}_sha256"
            elif len(file_fields) == 1 and "sha256" in names:
                digest = "sha256"
            yield model, field, digest


class Command(BaseCommand):
    help = (
        "Read everything this installation holds, as after a restore: decrypt every encrypted value, open every "
        "stored file (checking its SHA-256 where the row keeps one), and check that the configured keys fit the "
        "stored data (settings.KEY_CHECKS: the blind-index key's fingerprint). Prints counts; exits 1 on any failure."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        ring = keyring()
        values = 0
        for table, pk, column, place in encrypted_columns():
            count = 0
            for row_pk, token in _encrypted_values(table, pk, column):
                try:
                    ring.decrypt_text(token, place=place)
                except DecryptionError as exc:
                    failures += 1
                    self.stderr.write(f"FAILED {place} row {row_pk}: {exc}")
                    continue
                count += 1
            values += count
            self.stdout.write(f"values {place}: {count} decrypted")

        files = 0
        for model, field, digest_field in _file_fields():
            wanted = ["pk", field.name] + ([digest_field] if digest_field else [])
            rows = model._base_manager.exclude(**{f"{field.name}__isnull": True}).exclude(**{field.name: ""})
            opened = checked = 0
            for row in rows.values_list(*wanted).iterator(chunk_size=_BATCH):
                row_pk, name = row[0], str(row[1])
                try:
                    with field.storage.open(name) as handle:
                        content = handle.read()
                except (OSError, DecryptionError) as exc:
                    failures += 1
                    problem = "missing" if isinstance(exc, FileNotFoundError) else type(exc).__name__
                    self.stderr.write(f"FAILED {model._meta.label_lower}.{field.name} row {row_pk}: file {problem}")
                    continue
                opened += 1
                expected = row[2] if digest_field else ""
                if expected:
                    if hashlib.sha256(content).hexdigest() != expected:
                        failures += 1
                        self.stderr.write(
                            f"FAILED {model._meta.label_lower}.{field.name} row {row_pk}: SHA-256 does not match"
                        )
                        continue
                    checked += 1
            files += opened
            self.stdout.write(
                f"files {model._meta.label_lower}.{field.name}: {opened} opened, {checked} SHA-256 checked"
            )

        for path in getattr(settings, "KEY_CHECKS", []):
            try:
                import_string(path)()
            except ImproperlyConfigured as exc:
                failures += 1
                self.stderr.write(f"FAILED {path}: {exc}")
            else:
                self.stdout.write(f"keys {path}: the configured keys fit the stored data")

        if failures:
            raise CommandError(f"verify_restore: {failures} failures ({values} values and {files} files readable).")
        self.stdout.write(f"verify_restore: OK, {values} values and {files} files readable; keys fit the data.")

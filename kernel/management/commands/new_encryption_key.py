"""``manage.py new_encryption_key``: print a fresh random key for FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kernel.crypto import key_id, new_key, parse_keys


class Command(BaseCommand):
    help = "Print a new random AES-256 key (base64) to put first in FIELD_ENCRYPTION_KEYS, with its key id."

    def handle(self, *args: Any, **options: Any) -> None:
        key = new_key()
        self.stdout.write(key)
        self.stderr.write(f"key id {key_id(parse_keys(key)[0])}")

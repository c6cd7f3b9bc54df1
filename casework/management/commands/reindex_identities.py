"""``manage.py reindex_identities``: recompute every blind index with the configured BLIND_INDEX_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from casework.identity import key_fingerprint
from casework.services.keys import identities_reindex


class Command(BaseCommand):
    help = (
        "Recompute the blind indexes (A-numbers, names, dates of birth) of every detainee with the configured "
        "BLIND_INDEX_KEY and record its fingerprint. Run it after changing that key on purpose, or after a change "
        "to the name-matching rules."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = identities_reindex()
        self.stdout.write(f"Indexed {count} detainees; blind-index key fingerprint {key_fingerprint()}.")

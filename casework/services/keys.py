"""The keys protecting detainees' data: checked at start-up, and re-keyed on purpose.

Two keys matter and both must travel with every backup (see SECURITY.md):

* the **field keys** (``FIELD_ENCRYPTION_KEYS``) decrypt names, A-numbers, dates of birth, contacts,
  notes and files; each ciphertext names its key, so ``keys_verify`` can tell that the newest
  detainee row is readable with the configured keys;
* the **blind-index key** (``BLIND_INDEX_KEY``) makes the keyed hashes that search and duplicate
  detection match. Under another key nothing fails loudly: searches find nobody and duplicates slip
  through. So its fingerprint is stored with the data, and the app refuses to start on a mismatch.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from casework.identity import a_number_index, key_fingerprint, name_index_keys
from casework.models import BlindIndexKeyFingerprint, Case, Detainee, DetaineeNameKey
from casework.services.intake import detainee_reindex
from kernel.crypto import keyring, text_key_id

_BATCH = 500


def keys_verify() -> None:
    """Refuse to run with keys that do not fit the stored data; raises ``ImproperlyConfigured``.

    Without a stored fingerprint (a new installation, or the row lost), the key is tried on the
    data itself: the newest detainee's indexes are recomputed with it and compared. If they match
    (or there is nobody yet), the key's fingerprint is recorded. Before the tables exist
    (``migrate`` not run yet) there is nothing to check.
    """
    try:
        stored = BlindIndexKeyFingerprint.objects.order_by("pk").first()
    except DatabaseError:
        return
    current = key_fingerprint()
    if stored is None:
        if not _indexes_fit_the_key():
            raise ImproperlyConfigured(
                "BLIND_INDEX_KEY does not match the key the stored indexes were made with (the newest "
                "detainee's indexes differ when recomputed). Search and duplicate detection would silently "
                "stop matching. Configure the key kept with this backup, or re-key on purpose with "
                "`manage.py reindex_identities`."
            )
        BlindIndexKeyFingerprint.objects.create(fingerprint=current)
    elif stored.fingerprint != current:
        raise ImproperlyConfigured(
            f"BLIND_INDEX_KEY does not match the key the stored indexes were made with (stored fingerprint "
            f"{stored.fingerprint}, configured {current}). Search and duplicate detection would silently "
            "stop matching. Configure the key kept with this backup, or re-key on purpose with "
            "`manage.py reindex_identities`."
        )
    _field_keys_verify()


def _indexes_fit_the_key() -> bool:
    """Recompute the newest indexed detainee's indexes with the configured key: do they match what is stored?"""
    person = Detainee.objects.filter(erased_at__isnull=True).order_by("-pk").first()
    if person is None:
        return True
    if person.a_number:
        return person.a_number_index == a_number_index(person.a_number)
    stored = set(DetaineeNameKey.objects.filter(detainee=person).values_list("key", flat=True))
    return stored == set(name_index_keys(person.given_names, person.family_names, person.other_names))


def _field_keys_verify() -> None:
    table = connection.ops.quote_name(Detainee._meta.db_table)
    column = connection.ops.quote_name(str(Detainee._meta.get_field("given_names").column))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id DESC LIMIT 1")  # noqa: S608 - names, not input
        row = cursor.fetchone()
    if row is None:
        return
    found = text_key_id(row[0])
    ring = keyring()
    if found is None:
        raise ImproperlyConfigured("Detainees' names are stored unencrypted: run `manage.py reencrypt`.")
    if found not in ring.ids:
        raise ImproperlyConfigured(
            f"The newest detainee record is encrypted with key {found}, which is not in FIELD_ENCRYPTION_KEYS "
            f"(configured: {', '.join(ring.ids)}). Configure the keys kept with this backup."
        )


def identities_reindex() -> int:
    """Recompute every detainee's blind indexes with the configured key, then record its fingerprint.

    Returns how many detainees were indexed. Runs in batches (each one transaction); the
    fingerprint is written last, so an interrupted run still refuses to start and can simply be
    run again. Side effects: ``a_number_index``, ``date_of_birth_index``, the name and other
    A-number keys of every detainee; the minor flag of every case; the fingerprint row.
    """
    count = 0
    last = 0
    while True:
        with transaction.atomic():
            batch = list(Detainee.objects.filter(pk__gt=last).order_by("pk")[:_BATCH])
            if not batch:
                break
            for detainee in batch:
                detainee_reindex(detainee)
            for case in Case.objects.filter(detainee__in=batch).select_related("detainee"):
                case.detained_as_minor = case.minor_at_detention
                case.save(update_fields=["detained_as_minor"])
        count += len(batch)
        last = batch[-1].pk
    with transaction.atomic():
        BlindIndexKeyFingerprint.objects.all().delete()
        BlindIndexKeyFingerprint.objects.create(fingerprint=key_fingerprint(), recorded_at=timezone.now())
    return count

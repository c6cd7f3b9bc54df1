"""What a run verifies after writing: blind indexes of a sample, and no row pointing at nothing."""

from __future__ import annotations

from django.db import connection

from casework.identity import a_number_index, date_of_birth_index, name_index_keys
from casework.models import Detainee
from demo.scale.bulk import Log, SeedError

# The foreign keys the bulk load did not check row by row (the writer's bulk-load mode).
REFERENCES = (
    ("casework_case", "detainee_id", "casework_detainee"),
    ("casework_detaineenamekey", "detainee_id", "casework_detainee"),
    ("casework_assignment", "case_id", "casework_case"),
    ("casework_assignment", "attorney_id", "accounts_user"),
    ("casework_caseuserobjectpermission", "content_object_id", "casework_case"),
    ("casework_custodyperiod", "case_id", "casework_case"),
    ("casework_hearing", "case_id", "casework_case"),
    ("casework_deadline", "hearing_id", "casework_hearing"),
    ("casework_caseevent", "case_id", "casework_case"),
    ("accounts_accessevent", "user_id", "accounts_user"),
    ("funds_posting", "transaction_id", "funds_transaction"),
)


def check_sample(sample: int, log: Log) -> None:
    """Recompute the blind indexes of random detainees from their decrypted fields: they must match."""
    people = list(Detainee.objects.order_by("?")[:sample].prefetch_related("name_keys"))
    for person in people:
        keys = {k.key for k in person.name_keys.all()}
        if keys != set(name_index_keys(person.given_names, person.family_names, person.other_names)):
            raise SeedError(f"detainee {person.pk}: the name keys do not match the decrypted names")
        if person.a_number and person.a_number_index != a_number_index(person.a_number):
            raise SeedError(f"detainee {person.pk}: the A-number index does not match the decrypted A-number")
        if person.date_of_birth and person.date_of_birth_index != date_of_birth_index(person.date_of_birth):
            raise SeedError(f"detainee {person.pk}: the birth-date index does not match the decrypted date")
    log(f"  checked {len(people)} detainees: decrypted values and blind indexes agree")


def verify_references(log: Log) -> None:
    """No row may point at nothing."""
    with connection.cursor() as cur:
        for table, column, target in REFERENCES:
            cur.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "  # noqa: S608 - our names
                f"AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.id = t.{column})"
            )
            orphans = cur.fetchone()[0]
            if orphans:
                raise SeedError(f"{orphans} rows of {table}.{column} point at no {target} row")
    log(f"  foreign keys checked: {len(REFERENCES)} relations, no orphans")


def table_sizes(tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname = ANY(%s) ORDER BY relname", [tables]
        )
        return dict(cur.fetchall())

"""Ledger rules in the database, and the two funds every fund has from the start."""

from django.db import migrations

PG = [
    # A transaction's postings must sum to zero: checked when the database transaction commits.
    """
    CREATE FUNCTION funds_check_transaction_balanced() RETURNS trigger AS $$
    BEGIN
        IF (SELECT COALESCE(SUM(amount), 0) FROM funds_posting WHERE transaction_id = NEW.transaction_id) <> 0 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE CONSTRAINT TRIGGER funds_posting_balanced AFTER INSERT ON funds_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION funds_check_transaction_balanced()
    """,
    # Postings and transactions are never edited or deleted, only reversed.
    """
    CREATE FUNCTION funds_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: book a reversal instead';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER funds_posting_append_only BEFORE UPDATE OR DELETE ON funds_posting
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only()
    """,
    """
    CREATE TRIGGER funds_transaction_append_only BEFORE UPDATE OR DELETE ON funds_transaction
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only()
    """,
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS funds_transaction_append_only ON funds_transaction",
    "DROP TRIGGER IF EXISTS funds_posting_append_only ON funds_posting",
    "DROP FUNCTION IF EXISTS funds_ledger_append_only()",
    "DROP TRIGGER IF EXISTS funds_posting_balanced ON funds_posting",
    "DROP FUNCTION IF EXISTS funds_check_transaction_balanced()",
]
SQLITE = [
    """
    CREATE TRIGGER funds_posting_no_update BEFORE UPDATE ON funds_posting
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: book a reversal instead'); END
    """,
    """
    CREATE TRIGGER funds_posting_no_delete BEFORE DELETE ON funds_posting
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: book a reversal instead'); END
    """,
    """
    CREATE TRIGGER funds_transaction_no_update BEFORE UPDATE ON funds_transaction
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: book a reversal instead'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS funds_posting_no_update",
    "DROP TRIGGER IF EXISTS funds_posting_no_delete",
    "DROP TRIGGER IF EXISTS funds_transaction_no_update",
]


def _run(statements):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, None)  # no parameters: "%" in PL/pgSQL stays as it is

    return run


def create_funds(apps, schema_editor):
    Fund = apps.get_model("funds", "Fund")
    Fund.objects.get_or_create(
        slug="general",
        defaults={"name": "General fund", "description": "Legal representation, filing fees, experts, interpreters, travel.", "sort_order": 1},
    )
    Fund.objects.get_or_create(
        slug="bond",
        defaults={
            "name": "Bond fund",
            "description": "Pays immigration bonds. Refunded bonds flow back in to free the next person.",
            "restricted": True,
            "allowed_purposes": "bond",
            "sort_order": 2,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG, "sqlite": SQLITE}), _run({"postgresql": PG_DROP, "sqlite": SQLITE_DROP})
        ),
        migrations.RunPython(create_funds, migrations.RunPython.noop),
    ]

"""The application's database role cannot alter the access log (ASVS 13.2.2, 16.4.2).

``scripts/db-roles.sql`` is run with psql against the test database, with two throw-away roles:
an owner (the role that runs ``migrate``) and a runtime role (the role the app connects as).
As the runtime role the app's ordinary writes work, but the append-only tables (the access log,
the ledger) take only SELECT and INSERT, and nothing in the schema can be dropped, altered,
truncated or created. The append-only trigger refuses an UPDATE or DELETE even from the owner.
PostgreSQL only: roles and grants are what is tested.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import services as casework_services
from casework.models import Case, CaseStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "db-roles.sql"
INSUFFICIENT_PRIVILEGE = "42501"
RAISE_EXCEPTION = "P0001"
APPEND_ONLY = ["accounts_accessevent", "funds_transaction", "funds_posting"]


@dataclass(frozen=True)
class Roles:
    owner: str
    runtime: str


def run_script(*, owner: str, runtime: str, dbname: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run scripts/db-roles.sql with psql on the test database, as the test database's user."""
    psql = shutil.which("psql")
    assert psql, "psql (PostgreSQL's client) must be on PATH to test scripts/db-roles.sql"
    db = connection.settings_dict
    command = [psql, "-X", "-q", "-d", db["NAME"], "-U", db["USER"]]
    if db["HOST"]:
        command += ["-h", db["HOST"]]
    if db["PORT"]:
        command += ["-p", str(db["PORT"])]
    command += ["-v", f"owner={owner}", "-v", f"runtime={runtime}", "-v", f"dbname={dbname or db['NAME']}"]
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or "", "PGCONNECT_TIMEOUT": "10"}
    return subprocess.run([*command, "-f", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120)


def execute(sql: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def refused(sql: str, params: tuple = ()) -> str:
    """Run a statement that must fail; return its SQLSTATE."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        execute(sql, params)
    return caught.value.__cause__.sqlstate


def set_role(name: str) -> None:
    execute(f"SET ROLE {connection.ops.quote_name(name)}")


@pytest.fixture
def roles():
    if connection.vendor != "postgresql":
        pytest.skip("database roles and grants are PostgreSQL's (the suite runs on PostgreSQL in CI)")
    if not execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]:
        pytest.skip("the test database's user must be a superuser to create roles (scripts/services.sh makes one)")
    suffix = secrets.token_hex(4)
    made = Roles(owner=f"amparo_test_owner_{suffix}", runtime=f"amparo_test_app_{suffix}")
    try:
        result = run_script(owner=made.owner, runtime=made.runtime)
        assert result.returncode == 0, result.stderr
        yield made
    finally:
        execute("RESET ROLE")
        execute("DROP TABLE IF EXISTS amparo_test_later")
        for name in (made.owner, made.runtime):
            if execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)):
                quoted = connection.ops.quote_name(name)
                # Back to the test database's user what the script gave the owner, then forget both.
                execute(f"REASSIGN OWNED BY {quoted} TO CURRENT_USER")
                execute(f"DROP OWNED BY {quoted}")
                execute(f"DROP ROLE {quoted}")


@pytest.fixture
def staff():
    return UserFactory(role=Role.INTAKE)


def test_the_runtime_role_can_add_to_the_access_log_but_not_change_or_empty_it(roles, staff):
    set_role(roles.runtime)

    event = AccessEvent.objects.create(user=staff, action=AccessEvent.Action.VIEW, object_type="case", object_ref="x")

    assert AccessEvent.objects.filter(pk=event.pk).exists()
    assert refused("UPDATE accounts_accessevent SET detail = 'rewritten' WHERE id = %s", (event.pk,)) == (
        INSUFFICIENT_PRIVILEGE
    )
    assert refused("DELETE FROM accounts_accessevent WHERE id = %s", (event.pk,)) == INSUFFICIENT_PRIVILEGE
    assert refused("TRUNCATE accounts_accessevent") == INSUFFICIENT_PRIVILEGE
    execute("RESET ROLE")
    assert AccessEvent.objects.get(pk=event.pk).detail == ""


def test_the_runtime_role_cannot_remove_the_append_only_trigger_or_replace_its_function(roles):
    set_role(roles.runtime)

    assert refused("DROP TRIGGER accounts_accessevent_append_only ON accounts_accessevent") == INSUFFICIENT_PRIVILEGE
    assert refused("ALTER TABLE accounts_accessevent DISABLE TRIGGER ALL") == INSUFFICIENT_PRIVILEGE
    assert refused("DROP TABLE accounts_accessevent") == INSUFFICIENT_PRIVILEGE
    assert refused("ALTER FUNCTION accounts_accessevent_append_only() RENAME TO unused") == INSUFFICIENT_PRIVILEGE
    assert (
        refused(
            "CREATE OR REPLACE FUNCTION accounts_accessevent_append_only() RETURNS trigger"
            " AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        == INSUFFICIENT_PRIVILEGE
    )
    execute("RESET ROLE")
    assert execute(
        "SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'accounts_accessevent'::regclass"
        " AND tgname = 'accounts_accessevent_append_only'"
    ) == [("O",)]


def test_the_runtime_role_cannot_create_tables_or_become_the_owner(roles):
    set_role(roles.runtime)

    assert refused("CREATE TABLE amparo_test_later (id integer)") == INSUFFICIENT_PRIVILEGE
    execute("RESET ROLE")
    # (SET ROLE is checked against the session's user, here a superuser: ask PostgreSQL instead.)
    assert execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (roles.runtime, roles.owner)) == [(False,)]
    [(superuser, create_db, create_role, inherit, replication, bypass_rls, login)] = execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls, rolcanlogin"
        " FROM pg_roles WHERE rolname = %s",
        (roles.runtime,),
    )
    assert (superuser, create_db, create_role, inherit, replication, bypass_rls, login) == (
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    )


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_every_append_only_table_takes_only_select_and_insert_from_the_runtime_role(roles, table):
    set_role(roles.runtime)

    quoted = connection.ops.quote_name(table)
    assert execute(f"SELECT count(*) FROM {quoted}")[0][0] >= 0
    assert refused(f"UPDATE {quoted} SET id = id") == INSUFFICIENT_PRIVILEGE
    assert refused(f"DELETE FROM {quoted}") == INSUFFICIENT_PRIVILEGE
    assert refused(f"TRUNCATE {quoted}") == INSUFFICIENT_PRIVILEGE
    execute("RESET ROLE")
    privileges = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    held = [p for p in privileges if execute("SELECT has_table_privilege(%s, %s, %s)", (roles.runtime, table, p))[0][0]]
    assert held == ["SELECT", "INSERT"]


def test_the_app_works_as_the_runtime_role_and_ordinary_tables_take_updates(roles):
    intake = UserFactory(role=Role.INTAKE)
    set_role(roles.runtime)

    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Yaretzi", family_names="Tzompa"), by=intake
    )
    updated = Case.objects.filter(pk=case.pk).update(status=CaseStatus.ACTIVE)

    assert updated == 1
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACTIVE
    assert AccessEvent.objects.filter(user=intake).exists()  # the service logged as the runtime role


def test_the_runtime_role_reads_but_never_writes_the_migration_record(roles):
    set_role(roles.runtime)

    assert execute("SELECT count(*) FROM django_migrations")[0][0] > 0
    assert (
        refused("INSERT INTO django_migrations (app, name, applied) VALUES ('accounts', 'forged', now())")
        == INSUFFICIENT_PRIVILEGE
    )
    assert refused("DELETE FROM django_migrations") == INSUFFICIENT_PRIVILEGE


def test_a_table_a_later_migration_creates_gets_the_ordinary_grants(roles):
    set_role(roles.owner)
    execute("CREATE TABLE amparo_test_later (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
    set_role(roles.runtime)

    execute("INSERT INTO amparo_test_later (note) VALUES ('first')")
    execute("UPDATE amparo_test_later SET note = 'second'")

    assert execute("SELECT note FROM amparo_test_later") == [("second",)]
    execute("DELETE FROM amparo_test_later")
    assert execute("SELECT count(*) FROM amparo_test_later") == [(0,)]


def test_the_script_can_be_run_again_and_gives_the_owner_everything(roles):
    again = run_script(owner=roles.owner, runtime=roles.runtime)

    assert again.returncode == 0, again.stderr
    not_the_owners = execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> %s::regrole"
        " UNION ALL SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        " AND p.proowner <> %s::regrole",
        (roles.owner, roles.owner),
    )
    assert not_the_owners == []
    assert execute("SELECT has_table_privilege(%s, 'accounts_accessevent', 'UPDATE')", (roles.runtime,)) == [(False,)]
    assert execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", (roles.runtime,)) == [(False,)]


def test_the_script_refuses_one_role_for_both_the_wrong_database_and_a_runtime_role_in_a_group(roles):
    same = run_script(owner=roles.owner, runtime=roles.owner)
    elsewhere = run_script(owner=roles.owner, runtime=roles.runtime, dbname="postgres")
    execute(f"GRANT {connection.ops.quote_name(roles.owner)} TO {connection.ops.quote_name(roles.runtime)}")
    member = run_script(owner=roles.owner, runtime=roles.runtime)

    assert same.returncode != 0 and "two different roles" in same.stderr
    assert elsewhere.returncode != 0 and "connected to" in elsewhere.stderr
    assert member.returncode != 0 and "is a member of" in member.stderr


def test_the_append_only_trigger_refuses_an_update_or_delete_even_from_the_owner(roles, staff):
    event = AccessEvent.objects.create(user=staff, action=AccessEvent.Action.SIGN_IN)
    set_role(roles.owner)

    assert refused("UPDATE accounts_accessevent SET detail = 'rewritten' WHERE id = %s", (event.pk,)) == (
        RAISE_EXCEPTION
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    execute("RESET ROLE")
    assert AccessEvent.objects.get(pk=event.pk).detail == ""

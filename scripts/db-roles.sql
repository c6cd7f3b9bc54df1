-- Two PostgreSQL roles for Amparo: an owner that runs `migrate`, and a least-privilege runtime
-- role the web and Celery processes use, which cannot alter the access log (ASVS 13.2.2, 16.4.2).
--
-- Run it as a superuser, once at set-up and again after every `migrate` (it is idempotent):
--
--   DATABASE_URL=postgres://amparo_owner:...@host/amparo python manage.py migrate
--   psql -X -d amparo -v owner=amparo_owner -v runtime=amparo_app -v dbname=amparo -f scripts/db-roles.sql
--   DATABASE_URL=postgres://amparo_app:...@host/amparo gunicorn amparo.wsgi ...   # web, workers, beat
--
-- A new database: `createuser --pwprompt amparo_owner && createdb -O amparo_owner amparo` first
-- (the script refuses to run before `migrate` has made the tables). A database that one role owns
-- today: run the script with that role as `runtime` (the app's DATABASE_URL stays as it is) and a
-- new `owner`; from then on migrate with the owner's URL.
--
-- The script creates the roles if they are missing (without passwords: set them with
-- `\password amparo_owner` / `\password amparo_app`), makes the owner the owner of the database,
-- the `public` schema and everything in it (tables, sequences, views, functions: the append-only
-- trigger functions too), and grants the runtime role:
--
--   * USAGE on the schema, and no CREATE (nor for PUBLIC): it cannot create tables or functions;
--   * SELECT, INSERT, UPDATE, DELETE on every table and USAGE, SELECT on every sequence; never
--     TRUNCATE, REFERENCES or TRIGGER, and, not being an owner, never DROP or ALTER;
--   * on the append-only tables below only SELECT and INSERT;
--   * on django_migrations only SELECT (only `migrate`, as the owner, records migrations).
--
-- ALTER DEFAULT PRIVILEGES gives tables and sequences that later migrations create (as the owner)
-- the ordinary grants, so the app keeps working between a `migrate` and the re-run of this script.
-- A NEW APPEND-ONLY TABLE MUST BE ADDED TO `append_only` BELOW: until then the runtime role gets
-- UPDATE, DELETE on it like on any other table, and only its trigger stands in the way.
--
-- The axes tables (axes_accessattempt, axes_accessfailurelog, ...) stay ordinary: the app itself
-- updates a sign-in attempt's counters and deletes attempts when an administrator unlocks an
-- address, so they are a throttle, not a log that must survive the app.
--
-- The owner can still drop the triggers: keep its password away from the application servers and
-- use it only to migrate. The runtime role must not be a member of any role (SET ROLE would give
-- it the owner's rights), and the script refuses to go on if it is.
--
-- Tests: tests/security/test_db_roles.py runs this file with psql against the test database.

\set ON_ERROR_STOP on

\if :{?owner}
\else
\echo 'db-roles.sql: missing -v owner=ROLE (the role that runs migrate)'
DO $$ BEGIN RAISE EXCEPTION 'db-roles.sql needs -v owner=... -v runtime=... -v dbname=...'; END $$;
\endif
\if :{?runtime}
\else
\echo 'db-roles.sql: missing -v runtime=ROLE (the role the application connects as)'
DO $$ BEGIN RAISE EXCEPTION 'db-roles.sql needs -v owner=... -v runtime=... -v dbname=...'; END $$;
\endif
\if :{?dbname}
\else
\echo 'db-roles.sql: missing -v dbname=DATABASE (the database psql is connected to)'
DO $$ BEGIN RAISE EXCEPTION 'db-roles.sql needs -v owner=... -v runtime=... -v dbname=...'; END $$;
\endif

BEGIN;

-- psql does not substitute variables inside dollar-quoted bodies: hand them over as settings of
-- this transaction, and quote them with format('%I') where they become identifiers.
SELECT set_config('amparo_roles.owner', :'owner', true) AS owner_set,
       set_config('amparo_roles.runtime', :'runtime', true) AS runtime_set,
       set_config('amparo_roles.dbname', :'dbname', true) AS dbname_set
\gset amparo_roles_

DO $$
DECLARE
    owner text := current_setting('amparo_roles.owner');
    runtime text := current_setting('amparo_roles.runtime');
    dbname text := current_setting('amparo_roles.dbname');
    memberships text;
BEGIN
    IF owner = '' OR runtime = '' THEN
        RAISE EXCEPTION 'owner and runtime must be role names';
    END IF;
    IF owner = runtime THEN
        RAISE EXCEPTION 'owner and runtime must be two different roles (both are %)', owner;
    END IF;
    IF dbname <> current_database() THEN
        RAISE EXCEPTION 'dbname is %, but psql is connected to %: connect to the database you name',
            dbname, current_database();
    END IF;

    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = owner) THEN
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
            owner);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = runtime) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', runtime);
    END IF;
    -- Also on a re-run: whatever someone has given the runtime role since, it is taken back.
    EXECUTE format(
        'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS',
        runtime);

    SELECT string_agg(g.rolname, ', ' ORDER BY g.rolname) INTO memberships
    FROM pg_auth_members m
    JOIN pg_roles g ON g.oid = m.roleid
    WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = runtime);
    IF memberships IS NOT NULL THEN
        RAISE EXCEPTION 'the runtime role % is a member of % (it could SET ROLE to them): REVOKE that first',
            runtime, memberships;
    END IF;
END
$$;

-- Ownership: the database (whose owner owns `public` on PostgreSQL 15+ and may drop anything in
-- it), the schema, and every object in it that no extension owns.
DO $$
DECLARE
    owner text := current_setting('amparo_roles.owner');
    runtime text := current_setting('amparo_roles.runtime');
    item record;
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner);
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', owner);

    FOR item IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind
                   WHEN 'v' THEN 'VIEW'
                   WHEN 'm' THEN 'MATERIALIZED VIEW'
                   WHEN 'f' THEN 'FOREIGN TABLE'
                   WHEN 'S' THEN 'SEQUENCE'
                   ELSE 'TABLE'
               END AS kind
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = owner)
          AND NOT EXISTS (  -- a member of an extension
              SELECT FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
          AND NOT EXISTS (  -- a serial or identity sequence: it follows its table
              SELECT FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                AND c.relkind = 'S')
        ORDER BY c.relkind = 'S', c.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, owner);
    END LOOP;

    -- Functions too: whoever owns accounts_accessevent_append_only() can replace it with one
    -- that lets every UPDATE and DELETE through.
    FOR item IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = owner)
          AND NOT EXISTS (
              SELECT FROM pg_depend d
              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, owner);
    END LOOP;
END
$$;

-- Privileges: taken away and given again, so a re-run leaves exactly this.
DO $$
DECLARE
    owner text := current_setting('amparo_roles.owner');
    runtime text := current_setting('amparo_roles.runtime');
    -- Append-only tables (a trigger refuses UPDATE and DELETE): the runtime role may only read
    -- and add rows. Add every new append-only table here.
    append_only text[] := ARRAY[
        'accounts_accessevent',  -- the access log (accounts/migrations/0002)
        'funds_transaction',     -- the ledger (funds/migrations/0002)
        'funds_posting'
    ];
    -- Read by the app, written only by `migrate` (as the owner).
    read_only text[] := ARRAY['django_migrations'];
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY append_only || read_only LOOP
        IF to_regclass(format('public.%I', tbl)) IS NULL THEN
            RAISE EXCEPTION 'table % does not exist: run migrate (as the owner) before this script', tbl;
        END IF;
    END LOOP;

    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), runtime);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), runtime);

    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', runtime);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', runtime);

    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', runtime);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', runtime);
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', runtime);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', runtime);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', runtime);

    FOREACH tbl IN ARRAY append_only LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', tbl);
        EXECUTE format('REVOKE UPDATE, DELETE ON public.%I FROM %I', tbl, runtime);
    END LOOP;
    FOREACH tbl IN ARRAY read_only LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', tbl);
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON public.%I FROM %I', tbl, runtime);
    END LOOP;

    -- Tables and sequences a later migration creates (as the owner) get the ordinary grants.
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
        owner, runtime);
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I',
        owner, runtime);
END
$$;

COMMIT;

\echo db-roles.sql: :runtime may only read and add to the access log and the ledger, :owner owns the schema

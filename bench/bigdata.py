"""Fill the benchmark database fast with a realistic network: up to a million cases.

Run (DATABASE_URL names the database; it is migrated first)::

    state=/tmp/svc-bench && mkdir -p $state && eval "$(scripts/services.sh start $state)"
    .venv/bin/python bench/bigdata.py --cases 100000 --access-events 1000000
    .venv/bin/python bench/bigdata.py --cases 300000     # adds 200,000 to the 100,000
    .venv/bin/python bench/bigdata.py --cases 1000000    # adds 700,000 more

``--cases`` and ``--access-events`` are totals: each run adds what is missing, so growing the
data set keeps what is there. Rows go in with PostgreSQL ``COPY`` in chunks of ``--chunk`` cases,
one transaction per chunk (a run stopped half-way keeps whole chunks and the next run goes on).

The rows are the ones the services write (``case_register``, ``case_assign``, ``hearing_schedule``,
``case_close``, the timeline and the access log, ``book_donation``), with their values made by the
app's own functions:

* every personal field is encrypted one value at a time by the model field itself
  (``EncryptedTextField.get_prep_value``: AES-256-GCM with a fresh nonce). No ciphertext is reused:
  two people called José have two different ciphertexts, as in production, so nothing here is
  faster to read or to compare than real data would be;
* the blind indexes come from ``casework.identity`` (``a_number_index``, ``name_index_keys``,
  ``date_of_birth_index``) and ``funds.identity.donor_email_index``. They are deterministic
  (keyed HMAC), so the keys of a name or a birth date seen before are taken from a cache of the
  very values the functions returned: search and the duplicate check find these people exactly
  as they find people registered through the intake form (``--check`` recomputes a sample).

Everything uses the bench keys of ``bench/bigenv.py``; ``bench/pages.py`` runs the app on them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import random
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

bigenv.apply()

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import AccessEvent, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from casework.identity import (  # noqa: E402
    a_number_index,
    blind_index,
    date_of_birth_index,
    name_index_keys,
    name_key,
    name_tokens,
)
from casework.models import (  # noqa: E402
    Case,
    CaseNumberSequence,
    Detainee,
    DetentionFacility,
    FamilyContact,
    ImmigrationCourt,
    Note,
)
from funds.identity import donor_email_index  # noqa: E402
from funds.models import Account, AccountKind, Donor, Fund  # noqa: E402

STAFF_PASSWORD = "amparo-bench-only-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime.now(UTC).replace(microsecond=0)
HISTORY_DAYS = 8 * 365

# Names as they are typed at intake: a long tail, the common ones far more common (Zipf weights).
GIVEN = [
    "José",
    "María",
    "Juan",
    "Ana",
    "Luis",
    "Rosa",
    "Carlos",
    "Lucía",
    "Pedro",
    "Elena",
    "Mohamed",
    "Fatima",
    "Jorge",
    "Guadalupe",
    "Miguel",
    "Ángel",
    "Francisco",
    "Javier",
    "Marta",
    "Alejandro",
    "Daniela",
    "Andrés",
    "Sofía",
    "Diego",
    "Valentina",
    "Ricardo",
    "Camila",
    "Fernando",
    "Isabel",
    "Wilmer",
    "Yesenia",
    "Kevin",
    "Brayan",
    "Jefferson",
    "Yoselin",
    "Dayana",
    "Mamadou",
    "Aissatou",
    "Ousmane",
    "Ibrahima",
    "Jean",
    "Pierre",
    "Marie",
    "Claude",
    "Wadson",
    "Roseline",
    "Olena",
    "Oleksandr",
    "Dmytro",
    "Iryna",
    "Sergei",
    "Natalia",
    "Arjun",
    "Priya",
    "Harpreet",
    "Gurpreet",
    "Wei",
    "Li",
    "Ming",
    "Xiu",
    "Ahmed",
    "Omar",
    "Yusuf",
    "Aisha",
    "Khadija",
    "Hassan",
    "Amadou",
    "Kwame",
    "Abena",
    "Esperanza",
    "Milagros",
    "Lourdes",
    "Santiago",
    "Mateo",
    "Emiliano",
    "Ximena",
    "Dulce",
    "Nayeli",
    "Edgar",
    "Osmar",
    "Henry",
    "Nelson",
    "Marvin",
    "Glenda",
    "Heidy",
    "Maynor",
]
FAMILY = [
    "Hernández",
    "López",
    "García",
    "Martínez",
    "Pérez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Díaz",
    "Reyes",
    "Morales",
    "Gómez",
    "Sánchez",
    "Torres",
    "Rivera",
    "Gutiérrez",
    "Castillo",
    "Mejía",
    "Romero",
    "Vásquez",
    "Ortiz",
    "Chávez",
    "Ruiz",
    "Aguilar",
    "Mendoza",
    "Herrera",
    "Medina",
    "Castro",
    "Guzmán",
    "Rojas",
    "Vargas",
    "Fuentes",
    "Orellana",
    "Alvarado",
    "Portillo",
    "Escobar",
    "Argueta",
    "Zelaya",
    "Lemus",
    "Pineda",
    "Ayala",
    "Jean-Baptiste",
    "Pierre-Louis",
    "Joseph",
    "Charles",
    "Louis",
    "Étienne",
    "Diallo",
    "Barry",
    "Sow",
    "Bah",
    "Camara",
    "Traoré",
    "Koné",
    "Shevchenko",
    "Kovalenko",
    "Bondarenko",
    "Tkachenko",
    "Ivanov",
    "Petrova",
    "Singh",
    "Kaur",
    "Patel",
    "Sharma",
    "Wang",
    "Chen",
    "Zhang",
    "Liu",
    "Huang",
    "Nguyen",
    "Tran",
    "Haddad",
    "Khalil",
    "Mansour",
    "Abdi",
    "Mohamud",
    "Osei",
    "Mensah",
    "Quispe",
    "Mamani",
    "Choque",
    "Condori",
    "Tzul",
    "Xol",
    "Caal",
    "Chub",
    "Pop",
    "Coc",
    "Ixcoy",
    "Tum",
]
PARTICLE_FAMILY = ("De la Cruz", "Del Cid", "De León", "De Jesús", "Van der Berg")
COUNTRIES = [
    "Guatemala",
    "Honduras",
    "Mexico",
    "El_Salvador",
    "Venezuela",
    "Haiti",
    "Nicaragua",
    "Ecuador",
    "Colombia",
    "Cuba",
    "Ukraine",
    "India",
    "China",
    "Mauritania",
    "Senegal",
    "Guinea",
    "Brazil",
    "Peru",
    "Dominican_Republic",
    "Ghana",
]
LANGUAGES = (
    "Spanish",
    "Spanish",
    "Spanish",
    "K'iche'",
    "Q'eqchi'",
    "Mam",
    "Haitian Creole",
    "French",
    "Ukrainian",
    "Russian",
    "Punjabi",
    "Mandarin",
    "Arabic",
    "Wolof",
    "Pulaar",
    "Portuguese",
)
PLACES = (
    "Home Depot parking lot",
    "traffic stop on I-95",
    "courthouse steps",
    "workplace raid",
    "bus station",
    "check-in at the field office",
    "apartment complex",
    "port of entry",
    "county jail transfer",
)
NOTES = (
    "Caller is the sister; speaks Spanish only. Detained on the way to work.",
    "Has two U.S.-citizen children; asthma medication needed.",
    "Prior removal order mentioned by the family; check EOIR.",
    "Fear of return; brother was killed in 2022.",
    "Transferred twice in a week; the family lost track.",
)
RELATIONSHIPS = ("sister", "brother", "mother", "father", "spouse", "partner", "cousin", "friend", "employer")


def zipf(items, s: float = 1.0, offset: int = 3) -> list[float]:
    return [1 / (n + offset) ** s for n in range(len(items))]


GIVEN_W, FAMILY_W = zipf(GIVEN), zipf(FAMILY)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Ids:
    """Primary keys handed out here (COPY writes them), sequences moved past them after each chunk."""

    def __init__(self, tables: list[str]) -> None:
        self.next: dict[str, int] = {}
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our table names
                self.next[table] = cur.fetchone()[0] + 1

    def take(self, table: str) -> int:
        n = self.next[table]
        self.next[table] = n + 1
        return n

    def statements(self) -> list[tuple[str, list]]:
        return [
            ("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, n - 1])
            for table, n in self.next.items()
            if n > 1
        ]

    def sync_sequences(self) -> None:
        with connection.cursor() as cur:
            for sql, params in self.statements():
                cur.execute(sql, params)


class Copier:
    """Rows gathered per table, written with COPY."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        self.columns: dict[str, str] = {}
        self.written: dict[str, int] = defaultdict(int)

    def add(self, table: str, columns: str, row: tuple) -> None:
        self.columns.setdefault(table, columns)
        self.rows[table].append(row)

    def flush(self, order: list[str], raw=None) -> None:
        raw = raw or connection.connection.cursor()  # psycopg's own cursor: COPY
        for table in order:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            with raw.copy(f"COPY {table} ({self.columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.written[table] += len(rows)


class Writer:
    """COPY in a thread of its own, on its own connection, while the next chunk is generated.

    PostgreSQL does the inserting and index upkeep in its own process, so with two cores the
    Python generation and the database work overlap. One chunk waits at most (``maxsize=1``).
    """

    def __init__(self) -> None:
        self.conn = connection.get_new_connection(connection.get_connection_params())
        self.conn.execute("SET synchronous_commit = off")
        # Bulk-load mode: no per-row foreign-key trigger checks at commit (Django's FKs are deferred
        # constraint triggers, one queued check per row and key). The rows point only at ids this
        # script handed out or read from the database; ``verify_references`` checks them after.
        self.conn.execute("SET session_replication_role = replica")
        self.conn.commit()
        self.jobs: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.copy_seconds = 0.0
        self.rows = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            copier, order, statements, done_message = job
            try:
                if self.error is None:
                    t = time.perf_counter()
                    with self.conn.transaction():
                        cur = self.conn.cursor()
                        copier.flush(order, raw=cur)
                        for sql, params in statements:
                            cur.execute(sql, params)
                    self.copy_seconds += time.perf_counter() - t
                    self.rows += sum(copier.written.values())
                    log(done_message(self.rows))
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc
            finally:
                self.jobs.task_done()

    def put(self, copier: Copier, order: list[str], statements: list, done_message) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put((copier, order, statements, done_message))

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        self.conn.close()
        if self.error is not None:
            raise self.error


# --- encryption and blind indexes through the app's own functions -------------------------


def _encrypter(model, field: str):
    prep = model._meta.get_field(field).get_prep_value
    return lambda value: prep(value) if value not in ("", None) else ("" if value == "" else None)


ENC = {
    "given": _encrypter(Detainee, "given_names"),
    "family": _encrypter(Detainee, "family_names"),
    "other": _encrypter(Detainee, "other_names"),
    "a_number": _encrypter(Detainee, "a_number"),
    "other_a": _encrypter(Detainee, "other_a_numbers"),
    "dob": _encrypter(Detainee, "date_of_birth"),
    "contact_name": _encrypter(FamilyContact, "name"),
    "contact_phone": _encrypter(FamilyContact, "phone"),
    "where": _encrypter(Case, "detained_where"),
    "note": _encrypter(Note, "body"),
    "donor_email": _encrypter(Donor, "email"),
    "donor_name": _encrypter(Donor, "name"),
}
_dob_cache: dict[date, str | None] = {}
STATS = defaultdict(float)


_tokens_cache: dict[str, list[str]] = {}
_token_index_cache: dict[str, str] = {}
_verified = [0]


def name_keys_of(given: str, family: str, other: str) -> list[str]:
    """``name_index_keys(given, family, other)``, from the app's functions applied to each name once.

    ``name_tokens`` reads each name on its own and joins the tokens (unique, in order); it drops
    particles unless *every* token is one, which never happens here (every given name in ``GIVEN``
    is a real name). So the joined per-name results are the joint result; the first 5,000 people
    and ``check_sample`` at the end compare it with ``name_index_keys`` itself.
    """
    tokens: list[str] = []
    for name in (given, family, other):
        if not name:
            continue
        found = _tokens_cache.get(name)
        if found is None:
            found = _tokens_cache[name] = name_tokens(name)
        tokens.extend(found)
    keys: list[str] = []
    for token in dict.fromkeys(tokens):
        index = _token_index_cache.get(token)
        if index is None:
            word = name_key(token)
            index = _token_index_cache[token] = blind_index(word, purpose="name") if word else ""
        if index and index not in keys:
            keys.append(index)
    if _verified[0] < 5000:
        _verified[0] += 1
        assert keys == name_index_keys(given, family, other), (given, family, other)
    return keys


def dob_index_of(born: date) -> str | None:
    found = _dob_cache.get(born)
    if found is None:
        found = _dob_cache[born] = date_of_birth_index(born)
    return found


def a_number_for(n: int) -> str:
    """The n-th A-number: a bijection of n onto 9 digits (48271 is prime to 900,000,000), unique, unordered."""
    return str(100_000_000 + (n * 48271 + 12345) % 900_000_000)


# --- staff ---------------------------------------------------------------------------------


def ensure_staff(attorneys: int) -> dict[str, list[int]]:
    """1,000 attorneys (or ``attorneys``) and the other roles; every account with a TOTP authenticator."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    wanted = {
        Role.ATTORNEY: attorneys,
        Role.SUPERVISOR: max(10, attorneys // 40),
        Role.INTAKE: max(5, attorneys // 50),
        Role.FINANCE: 3,
        Role.AUDITOR: 2,
        Role.ADMIN: 2,
    }
    password = make_password(STAFF_PASSWORD)
    out: dict[str, list[int]] = {}
    for role, count in wanted.items():
        group = Group.objects.get(name=role.value)
        have = list(User.objects.filter(groups=group).order_by("pk").values_list("pk", flat=True))
        missing = count - len(have)
        if missing > 0:
            start = len(have)
            with transaction.atomic():
                users = User.objects.bulk_create(
                    [
                        User(
                            email=f"{role.value}{n:04d}@bench.amparo.test",
                            full_name=f"{role.value.capitalize()}{n:04d} Equipo",
                            password=password,
                            is_staff=role == Role.ADMIN,
                            date_joined=NOW - timedelta(days=HISTORY_DAYS + 30),
                        )
                        for n in range(start, start + missing)
                    ]
                )
                User.groups.through.objects.bulk_create(
                    [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users]
                )
                for user in users:
                    TOTP.activate(user, TOTP_SECRET)
                    RecoveryCodes.activate(user)
            have += [u.pk for u in users]
            log(f"  {missing} {role.value} accounts created")
        out[role.value] = have[:count] if missing <= 0 else have
    return out


# --- cases ---------------------------------------------------------------------------------


TABLES = [
    "casework_detainee",
    "casework_detaineenamekey",
    "casework_detaineeanumberkey",
    "casework_familycontact",
    "casework_case",
    "casework_custodyperiod",
    "casework_assignment",
    "casework_caseuserobjectpermission",
    "casework_hearing",
    "casework_deadline",
    "casework_caseevent",
    "casework_note",
    "accounts_accessevent",
    "funds_donor",
    "funds_donation",
    "funds_transaction",
    "funds_posting",
]

DETAINEE_COLS = (
    "id, given_names, family_names, other_names, a_number, a_number_index, date_of_birth, country_of_birth, "
    "citizenship, languages, needs_interpreter, created_at, created_by_id, other_a_numbers, date_of_birth_index, "
    "erased_at"
)
CASE_COLS = (
    "id, number, status, proceeding_type, detained_on, detained_where, last_arrival_on, flag_medical, "
    "flag_minor_children, flag_imminent_removal, registered_at, first_assigned_at, needs_reassignment, closed_at, "
    "close_reason, close_note, registered_by_id, detainee_id, facility_id, court_id, custodian, release_basis, "
    "supervision, next_check_in_on, detention_authority, stage, scope, uac_determination, uac_determined_on, "
    "asylum_exception, asylum_exception_note, citizenship_claimed, detained_as_minor, erased_at"
)
ASSIGN_COLS = "id, role, started_at, ended_at, assigned_by_id, attorney_id, ended_by_id, case_id"
PERM_COLS = "id, content_object_id, permission_id, user_id"
CUSTODY_COLS = "id, started_on, ended_on, case_id, recorded_by_id, facility_id, custodian, release_basis, supervision"
HEARING_COLS = (
    "id, kind, starts_at, judge, medium, interpreter_language, outcome, outcome_note, created_at, case_id, "
    "created_by_id, court_id, timezone_override, venue"
)
DEADLINE_COLS = (
    "id, title, due_on, rule, source_date, explanation, status, completed_at, created_at, case_id, "
    "completed_by_id, created_by_id, hearing_id, decision_id"
)
EVENT_COLS = "id, at, kind, summary, actor_id, case_id"
NOTE_COLS = "id, body, privileged, created_at, author_id, case_id"
ACCESS_COLS = "id, at, action, object_type, object_ref, detail, ip_address, user_id"

HELD = ("ice", "ice", "ice", "ice", "ice", "ice", "cbp", "orr", "criminal_detainer")
RELEASE = ("bond", "bond", "recognizance", "humanitarian_parole", "order_of_supervision", "conditional_parole")
CLOSE = ("relief_granted", "terminated", "released_referred", "other_counsel", "removed", "lost_contact", "declined")
PROCEEDING = ("removal", "removal", "removal", "expedited", "credible_fear", "reinstatement", "withholding_only")
AUTHORITY = ("unknown", "236a", "236a", "236c", "235b", "241")
HEARING_KINDS = ("master", "master", "master", "individual", "bond", "credible_fear")


class CaseGenerator:
    def __init__(self, rng: random.Random, staff: dict[str, list[int]]) -> None:
        self.rng = rng
        self.attorneys = staff["attorney"]
        self.supervisors = staff["supervisor"]
        self.intake = staff["intake"]
        # Caseloads differ: some attorneys carry three times what others do.
        weight_rng = random.Random(11)
        self.attorney_weights = [math.exp(weight_rng.gauss(0, 0.45)) for _ in self.attorneys]
        self.facilities = list(DetentionFacility.objects.filter(in_use=True).values_list("pk", flat=True))
        self.courts = list(ImmigrationCourt.objects.values_list("pk", flat=True))
        ct = Permission.objects.get(codename="view_case").content_type_id
        self.perms = [
            Permission.objects.get(codename="view_case", content_type_id=ct).pk,
            Permission.objects.get(codename="change_case", content_type_id=ct).pk,
        ]
        self.sequence = dict(CaseNumberSequence.objects.values_list("year", "last"))
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM casework_detainee")
            self.detainees_before = cur.fetchone()[0]
        self.detainee_serial = self.detainees_before

    def _name(self) -> tuple[str, str, str]:
        rng = self.rng
        given = " ".join(rng.choices(GIVEN, GIVEN_W, k=1 if rng.random() < 0.45 else 2))
        if rng.random() < 0.03:
            family = rng.choice(PARTICLE_FAMILY)
        else:
            family = " ".join(rng.choices(FAMILY, FAMILY_W, k=1 if rng.random() < 0.35 else 2))
        other = ""
        if rng.random() < 0.15:
            other = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        return given, family, other

    def _detainee(self, c: Copier, ids: Ids, registered_at: datetime) -> tuple[int, date | None]:
        rng = self.rng
        pk = ids.take("casework_detainee")
        self.detainee_serial += 1
        given, family, other = self._name()
        t = time.perf_counter()
        digits = a_number_for(self.detainee_serial) if rng.random() < 0.93 else ""
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(22000)) if rng.random() < 0.96 else None
        others = a_number_for(10_000_000 + self.detainee_serial) if digits and rng.random() < 0.02 else ""
        keys = name_keys_of(given, family, other)
        a_idx = a_number_index(digits) if digits else None
        dob_idx = dob_index_of(born) if born else None
        STATS["index_s"] += time.perf_counter() - t
        t = time.perf_counter()
        row = (
            pk,
            ENC["given"](given),
            ENC["family"](family),
            ENC["other"](other),
            ENC["a_number"](digits),
            a_idx,
            ENC["dob"](born) if born else None,
            rng.choice(COUNTRIES).replace("_", " "),
            "",
            rng.choice(LANGUAGES),
            rng.random() < 0.8,
            registered_at,
            rng.choice(self.intake),
            ENC["other_a"](others),
            dob_idx,
            None,
        )
        encrypted = 4 + bool(other) + bool(digits) + bool(others) + bool(born)
        if rng.random() < 0.6:
            c.add(
                "casework_familycontact",
                "id, name, relationship, phone, preferred_language, detainee_id",
                (
                    ids.take("casework_familycontact"),
                    ENC["contact_name"](f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"),
                    rng.choice(RELATIONSHIPS),
                    ENC["contact_phone"](f"+1 {rng.randrange(200, 999)} 555 {rng.randrange(1000, 9999)}"),
                    "Spanish",
                    pk,
                ),
            )
            encrypted += 2
        STATS["encrypt_s"] += time.perf_counter() - t
        STATS["encrypted_values"] += encrypted
        c.add("casework_detainee", DETAINEE_COLS, row)
        for key in keys:
            c.add("casework_detaineenamekey", "id, key, detainee_id", (ids.take("casework_detaineenamekey"), key, pk))
        if others:
            key = a_number_index(others)
            c.add(
                "casework_detaineeanumberkey",
                "id, key, detainee_id",
                (ids.take("casework_detaineeanumberkey"), key, pk),
            )
        return pk, born

    def _number(self, registered_at: datetime) -> str:
        year = registered_at.year
        last = self.sequence.get(year, 0) + 1
        self.sequence[year] = last
        self.current_number = f"{year}-{last:05d}"
        return self.current_number

    def chunk(self, c: Copier, ids: Ids, count: int) -> None:
        rng = self.rng
        leads = rng.choices(self.attorneys, self.attorney_weights, k=count)
        recent: list[tuple[int, date | None]] = []
        for i in range(count):
            age_days = rng.random() ** 1.3 * HISTORY_DAYS  # more recent cases than old ones
            registered_at = NOW - timedelta(days=age_days, seconds=rng.randrange(86400))
            if recent and rng.random() < 0.03:  # a new matter for a person already registered
                detainee, born = rng.choice(recent)
            else:
                detainee, born = self._detainee(c, ids, registered_at)
                recent.append((detainee, born))
            self._case(c, ids, registered_at, detainee, born, leads[i])
            if len(recent) > 2000:
                recent = recent[-1000:]

    def _case(self, c: Copier, ids: Ids, registered_at: datetime, detainee: int, born: date | None, lead: int) -> None:
        rng = self.rng
        pk = ids.take("casework_case")
        intake_user = rng.choice(self.intake)
        boss = rng.choice(self.supervisors)
        in_triage = (age_days_of(registered_at) < 2 and rng.random() < 0.7) or rng.random() < 0.004
        closed_at = None
        status = "triage" if in_triage else "active"
        if not in_triage:
            duration = timedelta(days=rng.randrange(20, 900))
            if registered_at + duration < NOW and rng.random() < 0.8:
                closed_at = registered_at + duration
                status = "closed"
        detained_on = (registered_at - timedelta(days=rng.randrange(0, 4))).date()
        if status == "closed":
            custodian = rng.choice(("released", "released", "removed", "unknown"))
        elif rng.random() < 0.25:
            custodian = "released"
        else:
            custodian = rng.choice(HELD)
        release = rng.choice(RELEASE) if custodian == "released" else ""
        supervision = "atd" if release and rng.random() < 0.3 else ""
        facility = rng.choice(self.facilities) if custodian in HELD else None
        court = rng.choice(self.courts) if not in_triage else None
        minor = None
        if born is not None:
            minor = (detained_on - born).days < 18 * 365.25
        uac = "unaccompanied" if minor and custodian == "orr" else "not_assessed"
        where = rng.choice(PLACES) if rng.random() < 0.7 else ""
        first_assigned = None
        if not in_triage:
            soon = registered_at + timedelta(hours=rng.randrange(2, 72))
            first_assigned = min(soon, max(registered_at, NOW - timedelta(minutes=5)))
        t = time.perf_counter()
        c.add(
            "casework_case",
            CASE_COLS,
            (
                pk,
                self._number(registered_at),
                status,
                rng.choice(PROCEEDING),
                detained_on,
                ENC["where"](where),
                None,
                rng.random() < 0.08,
                rng.random() < 0.2,
                rng.random() < 0.03 and status != "closed",
                registered_at,
                first_assigned,
                status == "active" and rng.random() < 0.004,
                closed_at,
                rng.choice(CLOSE) if closed_at else "",
                "",
                intake_user,
                detainee,
                facility,
                court,
                custodian,
                release,
                supervision,
                None,
                rng.choice(AUTHORITY),
                "immigration_judge" if rng.random() < 0.85 else "bia",
                "full" if rng.random() < 0.85 else "bond_only",
                uac,
                detained_on if uac == "unaccompanied" else None,
                "",
                "",
                rng.random() < 0.005,
                minor,
                None,
            ),
        )
        STATS["encrypt_s"] += time.perf_counter() - t
        STATS["encrypted_values"] += bool(where)
        # Custody: the current period, and for some a transfer before it.
        started = detained_on
        if rng.random() < 0.3 and custodian in HELD:
            moved = started + timedelta(days=rng.randrange(1, 40))
            c.add(
                "casework_custodyperiod",
                CUSTODY_COLS,
                (
                    ids.take("casework_custodyperiod"),
                    started,
                    moved,
                    pk,
                    boss,
                    rng.choice(self.facilities),
                    "ice",
                    "",
                    "",
                ),
            )
            started = moved
        c.add(
            "casework_custodyperiod",
            CUSTODY_COLS,
            (
                ids.take("casework_custodyperiod"),
                started,
                None,
                pk,
                intake_user,
                facility,
                custodian,
                release,
                supervision,
            ),
        )
        events = [(registered_at, "registered", "Registered at intake and sent to triage.", intake_user)]
        self._access(c, ids, registered_at, "change", pk, "registered", intake_user)
        if rng.random() < 0.5:
            note_at = registered_at + timedelta(minutes=1)
            t = time.perf_counter()
            body = ENC["note"](rng.choice(NOTES))
            STATS["encrypt_s"] += time.perf_counter() - t
            STATS["encrypted_values"] += 1
            c.add("casework_note", NOTE_COLS, (ids.take("casework_note"), body, False, note_at, intake_user, pk))
        if not in_triage:
            self._assignments(c, ids, pk, lead, boss, first_assigned, closed_at, events)
            self._hearings(c, ids, pk, boss, first_assigned, closed_at, court, events)
        if closed_at:
            events.append((closed_at, "closed", "Closed: relief granted.", lead))
        for at, kind, summary, actor in events:
            c.add("casework_caseevent", EVENT_COLS, (ids.take("casework_caseevent"), at, kind, summary, actor, pk))

    def _assign(self, c, ids, case, attorney, role, start, end, boss) -> None:
        c.add(
            "casework_assignment",
            ASSIGN_COLS,
            (ids.take("casework_assignment"), role, start, end, boss, attorney, boss if end else None, case),
        )
        if end is None:  # guardian's direct-FK rows follow the open assignments (assignment services)
            for perm in self.perms:
                c.add(
                    "casework_caseuserobjectpermission",
                    PERM_COLS,
                    (ids.take("casework_caseuserobjectpermission"), case, perm, attorney),
                )

    def _assignments(self, c, ids, case, lead, boss, start, closed_at, events) -> None:
        rng = self.rng
        end_limit = closed_at or NOW
        if rng.random() < 0.2:  # an earlier lead, replaced (a leaver, a conflict, a reassignment)
            earlier = rng.choices(self.attorneys, self.attorney_weights, k=1)[0]
            if earlier != lead:
                handover = start + (end_limit - start) * rng.random() * 0.6
                self._assign(c, ids, case, earlier, "lead", start, handover, boss)
                events.append((start, "assigned", "Lead attorney assigned.", boss))
                events.append((handover, "unassigned", "Lead attorney replaced.", boss))
                start = handover
        # Closing a case does not end its assignments (case_close keeps them): closed cases keep an open lead.
        self._assign(c, ids, case, lead, "lead", start, None, boss)
        events.append((start, "assigned", "Lead attorney assigned.", boss))
        if rng.random() < 0.1:
            co = rng.choices(self.attorneys, self.attorney_weights, k=1)[0]
            if co != lead:
                self._assign(c, ids, case, co, "co_counsel", start, None, boss)
                events.append((start, "assigned", "Co-counsel assigned.", boss))

    def _hearings(self, c, ids, case, boss, start, closed_at, court, events) -> None:
        rng = self.rng
        end_limit = closed_at or NOW + timedelta(days=60)
        for n in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            at = start + (end_limit - start) * rng.random()
            at = at.replace(minute=0, second=0, microsecond=0)
            at = at.replace(hour=13 + rng.randrange(0, 8))
            held = at < NOW
            hearing = ids.take("casework_hearing")
            c.add(
                "casework_hearing",
                HEARING_COLS,
                (
                    hearing,
                    rng.choice(HEARING_KINDS),
                    at,
                    "",
                    "in_person" if rng.random() < 0.6 else "video",
                    "Spanish" if rng.random() < 0.7 else "",
                    rng.choice(("continued", "decided", "reserved")) if held else "",
                    "",
                    start,
                    case,
                    boss,
                    court,
                    "",
                    "",
                ),
            )
            events.append((start, "hearing", "Hearing scheduled.", boss))
            if n == 0 or rng.random() < 0.4:
                due = (at - timedelta(days=rng.choice((7, 14, 15)))).date()
                done = closed_at is not None or (due < NOW.date() and rng.random() < 0.9)
                c.add(
                    "casework_deadline",
                    DEADLINE_COLS,
                    (
                        ids.take("casework_deadline"),
                        "File evidence and witness list",
                        due,
                        "manual",
                        None,
                        "",
                        "done" if done else "open",
                        datetime.combine(due, datetime.min.time(), UTC) if done else None,
                        start,
                        case,
                        boss if done else None,
                        boss,
                        hearing,
                        None,
                    ),
                )

    def _access(self, c, ids, at, action, case_pk, detail, user) -> None:
        # The case's public number is what the log names; the number was just issued.
        c.add(
            "accounts_accessevent",
            ACCESS_COLS,
            (ids.take("accounts_accessevent"), at, action, "case", self.current_number, detail, None, user),
        )

    def sequence_statements(self) -> list[tuple[str, list]]:
        """Keep ``CaseNumberSequence`` past the numbers issued here, so intake goes on from them."""
        return [
            (
                "INSERT INTO casework_casenumbersequence (year, last) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET last = greatest(casework_casenumbersequence.last, EXCLUDED.last)",
                [year, last],
            )
            for year, last in self.sequence.items()
        ]


def age_days_of(at: datetime) -> float:
    return (NOW - at).total_seconds() / 86400


# --- the access log ------------------------------------------------------------------------


def add_access_events(ids: Ids, staff: dict[str, list[int]], missing: int, rng: random.Random, chunk: int) -> None:
    """Reads of case pages (mostly), changes and sign-ins, over two years, by staff weighted to attorneys."""
    with connection.cursor() as cur:
        cur.execute("SELECT number FROM casework_case ORDER BY random() LIMIT 50000")
        numbers = [row[0] for row in cur.fetchall()]
    users = staff["attorney"] * 6 + staff["supervisor"] * 3 + staff["intake"] + staff["auditor"] + staff["finance"]
    done = 0
    while done < missing:
        c = Copier()
        for _ in range(min(chunk * 5, missing - done)):
            at = NOW - timedelta(seconds=rng.randrange(730 * 86400))
            roll = rng.random()
            action, kind, ref = (
                ("view", "case", rng.choice(numbers))
                if roll < 0.8
                else ("change", "case", rng.choice(numbers))
                if roll < 0.94
                else ("sign_in", "", "")
            )
            ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            c.add(
                "accounts_accessevent",
                ACCESS_COLS,
                (ids.take("accounts_accessevent"), at, action, kind, ref, "", ip, rng.choice(users)),
            )
        with transaction.atomic():
            c.flush(["accounts_accessevent"])
            ids.sync_sequences()
        done += c.written["accounts_accessevent"]
        log(f"  access events: {done:,} of {missing:,}")


# --- donations and their ledger transactions ----------------------------------------------


def add_donations(ids: Ids, missing: int, rng: random.Random) -> None:
    """Paid gifts booked as ``book_donation`` books them (gift and Stripe fee), balances kept."""
    funds = list(Fund.objects.order_by("pk"))
    accounts = {}
    for fund in funds:
        for kind in (AccountKind.STRIPE_CLEARING, AccountKind.DONATIONS, AccountKind.PROCESSING_FEES):
            accounts[(fund.pk, kind)] = Account.objects.get_or_create(fund=fund, kind=kind)[0].pk
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM funds_donor")
        donors_before = cur.fetchone()[0]
    c = Copier()
    donor_ids: list[int] = []
    for _ in range(missing):
        if not donor_ids or rng.random() < 0.35:
            email = f"donor{donors_before + len(donor_ids)}@example.org"
            pk = ids.take("funds_donor")
            c.add(
                "funds_donor",
                "id, email, name, stripe_customer_id, created_at, email_index",
                (
                    pk,
                    ENC["donor_email"](email),
                    ENC["donor_name"](f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"),
                    "",
                    NOW - timedelta(days=rng.randrange(HISTORY_DAYS)),
                    donor_email_index(email),
                ),
            )
            donor_ids.append(pk)
        fund = funds[0] if rng.random() < 0.8 else rng.choice(funds)
        amount = rng.choice((2500, 5000, 5000, 10000, 2000, 25000, 100000))
        fee = round(amount * 0.029) + 30
        paid = NOW - timedelta(days=rng.randrange(HISTORY_DAYS), seconds=rng.randrange(86400))
        pk = ids.take("funds_donation")
        c.add(
            "funds_donation",
            "id, amount_cents, fee_covered_cents, anonymous, status, stripe_payment_intent_id, stripe_charge_id, "
            "stripe_fee_cents, refunded_cents, created_at, paid_at, receipt_number, receipt_pdf, receipt_sha256, "
            "donor_id, fund_id",
            (
                pk,
                amount,
                0,
                rng.random() < 0.1,
                "paid",
                f"pi_bench_{pk}",
                f"ch_bench_{pk}",
                fee,
                0,
                paid,
                paid,
                f"R{paid.year}-{pk:06d}",
                "",
                "",
                rng.choice(donor_ids),
                fund.pk,
            ),
        )
        for key, kind, desc, debit, credit, cents in (
            (
                f"donation:{pk}",
                "donation",
                f"Donation {pk}",
                AccountKind.STRIPE_CLEARING,
                AccountKind.DONATIONS,
                amount,
            ),
            (
                f"donation:{pk}:fee",
                "fee",
                f"Stripe fee on donation {pk}",
                AccountKind.PROCESSING_FEES,
                AccountKind.STRIPE_CLEARING,
                fee,
            ),
        ):
            txn = ids.take("funds_transaction")
            c.add(
                "funds_transaction",
                "id, key, kind, occurred_at, recorded_at, description, recorded_by_id, reverses_id",
                (txn, key, kind, paid, paid, desc, None, None),
            )
            for acct, amt in ((accounts[(fund.pk, debit)], cents), (accounts[(fund.pk, credit)], -cents)):
                c.add(
                    "funds_posting",
                    "id, amount, account_id, transaction_id",
                    (ids.take("funds_posting"), amt, acct, txn),
                )
    with transaction.atomic():
        c.flush(["funds_donor", "funds_donation", "funds_transaction", "funds_posting"])
        with connection.cursor() as cur:  # the running balances ledger_post keeps
            cur.execute(
                "UPDATE funds_account a SET balance = coalesce("
                "(SELECT sum(p.amount) FROM funds_posting p WHERE p.account_id = a.id), 0)"
            )
        ids.sync_sequences()
    log(f"  {missing:,} donations with {c.written['funds_posting']:,} postings")


def check_sample(sample: int, rng: random.Random) -> None:
    """Recompute the blind indexes of random detainees from their decrypted fields: they must match."""
    people = list(Detainee.objects.order_by("?")[:sample].prefetch_related("name_keys"))
    for person in people:
        keys = {k.key for k in person.name_keys.all()}
        assert keys == set(name_index_keys(person.given_names, person.family_names, person.other_names)), person.pk
        if person.a_number:
            assert person.a_number_index == a_number_index(person.a_number), person.pk
        if person.date_of_birth:
            assert person.date_of_birth_index == date_of_birth_index(person.date_of_birth), person.pk
    log(f"  checked {len(people)} detainees: decrypted values and blind indexes agree")


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


def verify_references() -> None:
    """The foreign keys the bulk load did not check row by row: no row may point at nothing."""
    with connection.cursor() as cur:
        for table, column, target in REFERENCES:
            cur.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "  # noqa: S608 - our names
                f"AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.id = t.{column})"
            )
            orphans = cur.fetchone()[0]
            if orphans:
                raise SystemExit(f"{orphans} rows of {table}.{column} point at no {target} row")
    log(f"  foreign keys checked: {len(REFERENCES)} relations, no orphans")


def table_sizes() -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname = ANY(%s) ORDER BY relname",
            [TABLES],
        )
        return dict(cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="total cases wanted (adds what is missing)")
    parser.add_argument("--access-events", type=int, default=1_000_000, help="total access-log rows wanted")
    parser.add_argument("--attorneys", type=int, default=1000)
    parser.add_argument("--donations", type=int, default=None, help="total donations wanted (default: cases / 5)")
    parser.add_argument("--chunk", type=int, default=20_000, help="cases per COPY transaction")
    parser.add_argument("--check", type=int, default=200, help="detainees to re-verify at the end")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    log("migrate")
    call_command("migrate", verbosity=0)
    from casework.services.keys import keys_verify

    keys_verify()  # records the bench blind-index key's fingerprint, as the app's start-up does
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    staff = ensure_staff(args.attorneys)
    existing = Case.objects.count()
    rng = random.Random(args.seed if args.seed is not None else existing + 1)
    ids = Ids(TABLES)
    gen = CaseGenerator(rng, staff)
    missing = max(0, args.cases - existing)
    log(f"cases: {existing:,} there, adding {missing:,}")
    order = [*TABLES[:12], "accounts_accessevent"]
    t_cases = time.perf_counter()
    rows_cases = 0
    done = 0
    writer = Writer()
    while done < missing:
        n = min(args.chunk, missing - done)
        c = Copier()
        t = time.perf_counter()
        gen.chunk(c, ids, n)
        STATS["generate_s"] += time.perf_counter() - t
        done += n

        def progress(rows: int, total: int = existing + done) -> str:
            elapsed = time.perf_counter() - t_cases
            return f"  {total:,} cases ({rows / elapsed:,.0f} rows/s, {(total - existing) / elapsed:,.0f} cases/s)"

        writer.put(c, order, gen.sequence_statements() + ids.statements(), progress)
    writer.close()
    STATS["copy_s"] = writer.copy_seconds
    rows_cases = writer.rows
    cases_seconds = time.perf_counter() - t_cases

    t_access = time.perf_counter()
    access_missing = max(0, args.access_events - AccessEvent.objects.count())
    log(f"access events: adding {access_missing:,}")
    add_access_events(ids, staff, access_missing, rng, args.chunk)
    access_seconds = time.perf_counter() - t_access

    t_funds = time.perf_counter()
    wanted_donations = args.donations if args.donations is not None else args.cases // 5
    from funds.models import Donation

    donations_missing = max(0, wanted_donations - Donation.objects.count())
    log(f"donations: adding {donations_missing:,}")
    if donations_missing:
        add_donations(ids, donations_missing, rng)
    funds_seconds = time.perf_counter() - t_funds

    log("ANALYZE")
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    analyze_seconds = time.perf_counter() - t
    t = time.perf_counter()
    verify_references()
    verify_seconds = time.perf_counter() - t
    if args.check:
        check_sample(args.check, rng)
    total = time.perf_counter() - started
    sizes = table_sizes()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cur.fetchone()[0]
    report = {
        "cases_total": Case.objects.count(),
        "cases_added": missing,
        "access_events_added": access_missing,
        "donations_added": donations_missing,
        "seconds": {
            "total": round(total, 1),
            "cases": round(cases_seconds, 1),
            "generate_rows_in_python": round(STATS["generate_s"], 1),
            "of_which_encrypt": round(STATS["encrypt_s"], 1),
            "of_which_blind_indexes": round(STATS["index_s"], 1),
            "copy_and_commit_in_writer_thread": round(STATS["copy_s"], 1),
            "access_events": round(access_seconds, 1),
            "donations": round(funds_seconds, 1),
            "analyze": round(analyze_seconds, 1),
            "verify_foreign_keys": round(verify_seconds, 1),
        },
        "rows_per_second_cases_phase": round(rows_cases / cases_seconds) if cases_seconds and rows_cases else None,
        "encrypted_values": int(STATS["encrypted_values"]),
        "encryptions_per_second": round(STATS["encrypted_values"] / STATS["encrypt_s"]) if STATS["encrypt_s"] else None,
        "name_token_cache_entries": len(_tokens_cache),
        "table_rows": sizes,
        "database_size": db_size,
        "machine": f"{os.cpu_count()} cores",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(report, indent=2))
    bigenv.RESULTS.mkdir(exist_ok=True)
    out = bigenv.RESULTS / f"bigdata-{report['cases_total']}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()

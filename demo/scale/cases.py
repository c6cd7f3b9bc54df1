"""Cases as the services write them: ``case_register``, ``case_assign``, ``hearing_schedule``, ``case_close``.

Each case comes with its detainee (blind-index keys, family contact), custody periods, assignments
with their history and guardian's direct-foreign-key rows for the open ones, hearings, deadlines,
a note, timeline events and the access-log row of its registration.
"""

from __future__ import annotations

import math
import random
import time
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.db import connection

from casework.identity import a_number_index
from casework.models import CaseNumberSequence, CloseReason, DetentionFacility, ImmigrationCourt
from demo.scale.bulk import Copier, Ids, Statement
from demo.scale.names import (
    AUTHORITY,
    CLOSE,
    COUNTRIES,
    FAMILY,
    FAMILY_W,
    GIVEN,
    GIVEN_W,
    HEARING_KINDS,
    HELD,
    LANGUAGES,
    NOTES,
    PARTICLE_FAMILY,
    PLACES,
    PROCEEDING,
    RELATIONSHIPS,
    RELEASE,
)
from demo.scale.values import Values, a_number_for

HISTORY_DAYS = 8 * 365

# Every table a run writes to, in the order of their foreign keys.
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
CASE_TABLES = TABLES[:13]

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

Event = tuple[datetime, str, str, int]


class CaseGenerator:
    """Makes the rows of ``count`` cases at a time (``chunk``) into a ``Copier``."""

    def __init__(self, *, rng: random.Random, staff: dict[str, list[int]], values: Values, now: datetime) -> None:
        self.rng = rng
        self.values = values
        self.now = now
        self.attorneys = staff["attorney"]
        self.supervisors = staff["supervisor"]
        self.intake = staff["intake"]
        # Caseloads differ: some attorneys carry three times what others do.
        weight_rng = random.Random(11)
        self.attorney_weights = [math.exp(weight_rng.gauss(0, 0.45)) for _ in self.attorneys]
        self.facilities = list(DetentionFacility.objects.filter(in_use=True).values_list("pk", flat=True))
        self.courts = list(ImmigrationCourt.objects.values_list("pk", flat=True))
        self.perms = list(
            Permission.objects.filter(content_type__app_label="casework", content_type__model="case")
            .filter(codename__in=["view_case", "change_case"])
            .order_by("codename")
            .values_list("pk", flat=True)
        )
        self.sequence = dict(CaseNumberSequence.objects.values_list("year", "last"))
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM casework_detainee")
            self.detainee_serial = cur.fetchone()[0]
        self.current_number = ""

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
        rng, enc, stats = self.rng, self.values.enc, self.values.stats
        pk = ids.take("casework_detainee")
        self.detainee_serial += 1
        given, family, other = self._name()
        t = time.perf_counter()
        digits = a_number_for(self.detainee_serial) if rng.random() < 0.93 else ""
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(22000)) if rng.random() < 0.96 else None
        others = a_number_for(10_000_000 + self.detainee_serial) if digits and rng.random() < 0.02 else ""
        keys = self.values.name_keys(given, family, other)
        a_idx = a_number_index(digits) if digits else None
        dob_idx = self.values.dob_index(born) if born else None
        stats["index_s"] += time.perf_counter() - t
        t = time.perf_counter()
        row = (
            pk,
            enc["given"](given),
            enc["family"](family),
            enc["other"](other),
            enc["a_number"](digits),
            a_idx,
            enc["dob"](born) if born else None,
            rng.choice(COUNTRIES),
            "",
            rng.choice(LANGUAGES),
            rng.random() < 0.8,
            registered_at,
            rng.choice(self.intake),
            enc["other_a"](others),
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
                    enc["contact_name"](f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"),
                    rng.choice(RELATIONSHIPS),
                    enc["contact_phone"](f"+1 {rng.randrange(200, 999)} 555 {rng.randrange(1000, 9999)}"),
                    "Spanish",
                    pk,
                ),
            )
            encrypted += 2
        stats["encrypt_s"] += time.perf_counter() - t
        stats["encrypted_values"] += encrypted
        c.add("casework_detainee", DETAINEE_COLS, row)
        for key in keys:
            c.add("casework_detaineenamekey", "id, key, detainee_id", (ids.take("casework_detaineenamekey"), key, pk))
        if others:
            c.add(
                "casework_detaineeanumberkey",
                "id, key, detainee_id",
                (ids.take("casework_detaineeanumberkey"), a_number_index(others), pk),
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
            registered_at = self.now - timedelta(days=age_days, seconds=rng.randrange(86400))
            if recent and rng.random() < 0.03:  # a new matter for a person already registered
                detainee, born = rng.choice(recent)
            else:
                detainee, born = self._detainee(c, ids, registered_at)
                recent.append((detainee, born))
            self._case(c, ids, registered_at, detainee, born, leads[i])
            if len(recent) > 2000:
                recent = recent[-1000:]

    def _case(self, c: Copier, ids: Ids, registered_at: datetime, detainee: int, born: date | None, lead: int) -> None:
        rng, now = self.rng, self.now
        pk = ids.take("casework_case")
        intake_user = rng.choice(self.intake)
        boss = rng.choice(self.supervisors)
        age_days = (now - registered_at).total_seconds() / 86400
        in_triage = (age_days < 2 and rng.random() < 0.7) or rng.random() < 0.004
        closed_at = None
        status = "triage" if in_triage else "active"
        if not in_triage:
            duration = timedelta(days=rng.randrange(20, 900))
            if registered_at + duration < now and rng.random() < 0.8:
                closed_at = registered_at + duration
                status = "closed"
        close_reason = rng.choice(CLOSE) if closed_at else ""
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
            first_assigned = min(soon, max(registered_at, now - timedelta(minutes=5)))
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
                self.values.enc["where"](where),
                None,
                rng.random() < 0.08,
                rng.random() < 0.2,
                rng.random() < 0.03 and status != "closed",
                registered_at,
                first_assigned,
                status == "active" and rng.random() < 0.004,
                closed_at,
                close_reason,
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
        self.values.stats["encrypt_s"] += time.perf_counter() - t
        self.values.stats["encrypted_values"] += bool(where)
        self._custody(c, ids, pk, detained_on, boss, intake_user, facility, custodian, release, supervision)
        events: list[Event] = [(registered_at, "registered", "Registered at intake and sent to triage.", intake_user)]
        self._access(c, ids, registered_at, "change", "registered", intake_user)
        if rng.random() < 0.5:
            t = time.perf_counter()
            body = self.values.enc["note"](rng.choice(NOTES))
            self.values.stats["encrypt_s"] += time.perf_counter() - t
            self.values.stats["encrypted_values"] += 1
            note_at = registered_at + timedelta(minutes=1)
            c.add("casework_note", NOTE_COLS, (ids.take("casework_note"), body, False, note_at, intake_user, pk))
        if first_assigned is not None:
            self._assignments(c, ids, pk, lead, boss, first_assigned, closed_at, events)
            self._hearings(c, ids, pk, boss, first_assigned, closed_at, court, events)
        if closed_at:
            events.append((closed_at, "closed", f"Closed: {CloseReason(close_reason).label}.", lead))
        for at, kind, summary, actor in events:
            c.add("casework_caseevent", EVENT_COLS, (ids.take("casework_caseevent"), at, kind, summary, actor, pk))

    def _custody(
        self,
        c: Copier,
        ids: Ids,
        case: int,
        started: date,
        boss: int,
        intake_user: int,
        facility: int | None,
        custodian: str,
        release: str,
        supervision: str,
    ) -> None:
        """The current custody period, and for some a transfer before it."""
        rng = self.rng
        if rng.random() < 0.3 and custodian in HELD:
            moved = started + timedelta(days=rng.randrange(1, 40))
            earlier = (ids.take("casework_custodyperiod"), started, moved, case, boss, rng.choice(self.facilities))
            c.add("casework_custodyperiod", CUSTODY_COLS, (*earlier, "ice", "", ""))
            started = moved
        row = (ids.take("casework_custodyperiod"), started, None, case, intake_user, facility)
        c.add("casework_custodyperiod", CUSTODY_COLS, (*row, custodian, release, supervision))

    def _assign(
        self,
        c: Copier,
        ids: Ids,
        case: int,
        attorney: int,
        role: str,
        start: datetime,
        end: datetime | None,
        by: int,
        ended_by: int | None,
    ) -> None:
        c.add(
            "casework_assignment",
            ASSIGN_COLS,
            (ids.take("casework_assignment"), role, start, end, by, attorney, ended_by if end else None, case),
        )
        if end is None:  # guardian's direct-FK rows follow the open assignments (the assignment services)
            for perm in self.perms:
                c.add(
                    "casework_caseuserobjectpermission",
                    PERM_COLS,
                    (ids.take("casework_caseuserobjectpermission"), case, perm, attorney),
                )

    def _assignments(
        self,
        c: Copier,
        ids: Ids,
        case: int,
        lead: int,
        boss: int,
        start: datetime,
        closed_at: datetime | None,
        events: list[Event],
    ) -> None:
        """A lead (sometimes after an earlier one), sometimes co-counsel.

        Closing a case keeps its assignments (``case_close``): the attorneys on it at the close keep
        it, and their guardian rows, so that they can still read and reopen it.
        """
        rng = self.rng
        end_limit = closed_at or self.now
        if rng.random() < 0.2:  # an earlier lead, replaced (a leaver, a conflict, a reassignment)
            earlier = rng.choices(self.attorneys, self.attorney_weights, k=1)[0]
            if earlier != lead:
                handover = start + (end_limit - start) * rng.random() * 0.6
                self._assign(c, ids, case, earlier, "lead", start, handover, boss, boss)
                events.append((start, "assigned", "Lead attorney assigned.", boss))
                events.append((handover, "unassigned", "Lead attorney replaced.", boss))
                start = handover
        self._assign(c, ids, case, lead, "lead", start, None, boss, lead)
        events.append((start, "assigned", "Lead attorney assigned.", boss))
        if rng.random() < 0.1:
            co = rng.choices(self.attorneys, self.attorney_weights, k=1)[0]
            if co != lead:
                self._assign(c, ids, case, co, "co_counsel", start, None, boss, lead)
                events.append((start, "assigned", "Co-counsel assigned.", boss))

    def _hearings(
        self,
        c: Copier,
        ids: Ids,
        case: int,
        boss: int,
        start: datetime,
        closed_at: datetime | None,
        court: int | None,
        events: list[Event],
    ) -> None:
        rng, now = self.rng, self.now
        end_limit = closed_at or now + timedelta(days=60)
        for n in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            at = start + (end_limit - start) * rng.random()
            at = at.replace(hour=13 + rng.randrange(0, 8), minute=0, second=0, microsecond=0)
            held = at < now
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
                done = closed_at is not None or (due < now.date() and rng.random() < 0.9)
                completed_at = datetime.combine(due, datetime.min.time(), now.tzinfo) if done else None
                row: tuple[Any, ...] = (ids.take("casework_deadline"), "File evidence and witness list", due, "manual")
                c.add(
                    "casework_deadline",
                    DEADLINE_COLS,
                    (
                        *row,
                        None,
                        "",
                        "done" if done else "open",
                        completed_at,
                        start,
                        case,
                        boss if done else None,
                        boss,
                        hearing,
                        None,
                    ),
                )

    def _access(self, c: Copier, ids: Ids, at: datetime, action: str, detail: str, user: int) -> None:
        # The case's public number is what the log names; the number was just issued.
        row = (ids.take("accounts_accessevent"), at, action, "case", self.current_number, detail, None, user)
        c.add("accounts_accessevent", ACCESS_COLS, row)

    def sequence_statements(self) -> list[Statement]:
        """Keep ``CaseNumberSequence`` past the numbers issued here, so intake goes on from them."""
        return [
            (
                "INSERT INTO casework_casenumbersequence (year, last) VALUES (%s, %s) "
                "ON CONFLICT (year) DO UPDATE SET last = greatest(casework_casenumbersequence.last, EXCLUDED.last)",
                [year, last],
            )
            for year, last in self.sequence.items()
        ]

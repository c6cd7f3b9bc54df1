"""The plan of the demo casework: who the cases are about, who leads them, and the demo's clock.

``Seeder`` draws one ``Plan`` per case (the person, where they are held, how the story goes) and
keeps the time: the services stamp every row "now", and the seeder moves each row back to the
moment its step is supposed to have happened (``stamp_created`` right after each step, and
``backdate`` for timestamps set on rows made earlier).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, models
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.deadlines import is_business_day
from casework.models import (
    Appearance,
    Assignment,
    Case,
    CaseEvent,
    CloseReason,
    Custodian,
    Deadline,
    Decision,
    Detainee,
    Hearing,
    Note,
)
from demo.accounts import ATTORNEY2_EMAIL, ATTORNEY_EMAIL, DEMO_DOMAIN, INTAKE_EMAIL, SUPERVISOR_EMAIL
from demo.chance import apportion, weighted
from demo.datafiles import json_data
from demo.people import Person, aliases, contacts, origins, person_name
from demo.places import Site, places_data, sites_load

# Shares of the cases, out of 200.
TRIAGE_SHARE, CLOSED_SHARE = 25, 25
# Lead attorneys of active cases, by weight; OTHERS is shared by any further demo attorneys
# (and, if there are none, folded into the three in proportion).
LEAD_WEIGHTS = {"attorney": 70, "attorney2": 50, "supervisor": 10}
OTHERS_WEIGHT = 20
# Each demo attorney gets at least this many hearings in the next two weeks.
NEAR_HEARINGS_PER_ATTORNEY = 6
CLOSE_REASONS = (
    (CloseReason.RELIEF_GRANTED, 6),
    (CloseReason.RELEASED_REFERRED, 4),
    (CloseReason.TERMINATED, 3),
    (CloseReason.REMOVED, 3),
    (CloseReason.OTHER_COUNSEL, 3),
    (CloseReason.DECLINED, 3),
    (CloseReason.LOST_CONTACT, 2),
    (CloseReason.DUPLICATE, 1),
)

# The creation timestamp of each model the services make rows of, moved to each step's moment.
STAMPED: dict[type[models.Model], str] = {
    Case: "registered_at",
    Detainee: "created_at",
    CaseEvent: "at",
    Note: "created_at",
    Assignment: "started_at",
    Hearing: "created_at",
    Deadline: "created_at",
    Decision: "recorded_at",
    Appearance: "recorded_at",
}


def notes_data() -> dict:
    """The words of the demo's notes, deadlines and hearing outcomes (``data/notes.json``)."""
    return json_data("notes")


@dataclass(frozen=True)
class DemoUsers:
    intake: User
    attorney: User
    attorney2: User
    supervisor: User
    others: tuple[User, ...]

    @classmethod
    def load(cls) -> DemoUsers:
        emails = (INTAKE_EMAIL, ATTORNEY_EMAIL, ATTORNEY2_EMAIL, SUPERVISOR_EMAIL)
        found = {u.email: u for u in User.objects.filter(email__in=emails)}
        missing = [e for e in emails if e not in found]
        if missing:
            raise LookupError(f"Demo accounts missing ({', '.join(missing)}): run manage.py seed_demo.")
        others = (
            User.objects.filter(email__endswith=DEMO_DOMAIN, is_active=True, groups__name=Role.ATTORNEY)
            .exclude(email__in=emails)
            .order_by("email")
        )
        return cls(
            found[INTAKE_EMAIL], found[ATTORNEY_EMAIL], found[ATTORNEY2_EMAIL], found[SUPERVISOR_EMAIL], tuple(others)
        )

    @property
    def registrars(self) -> list[User]:
        return [self.intake, self.supervisor]

    @property
    def lawyers(self) -> list[User]:
        return [self.attorney, self.attorney2, self.supervisor, *self.others]


@dataclass(frozen=True)
class Plan:
    """One case to tell: its kind of story, who leads it, and the intake data it starts from."""

    kind: str  # triage, reassign, active, closed
    lead: User | None  # none in triage, or when closed straight from triage
    close_reason: str  # a CloseReason for closed cases, else ""
    person: Person
    data: dict[str, Any]  # the fields of casework.services.IntakeData but the facility
    site: Site
    registered_by: User
    registered_at: datetime
    arrival: date
    border: bool
    minor: bool = False  # the demo's unaccompanied child: 16 when detained at the border


class Seeder:
    def __init__(self, users: DemoUsers, rng: random.Random, count: int) -> None:
        self.users = users
        self.rng = rng
        self.count = count
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        self.tz = timezone.get_default_timezone()
        self.sites = sites_load()
        self.a_numbers: set[str] = set()
        self.near_hearings: dict[int, int] = defaultdict(int)
        # Stories the demo must show once, told by the first active cases (``Story.story_active``).
        self.showcase: list[str] = ["in_absentia", "voluntary_departure"]
        self.minor_planned = False
        self.backdates: dict[type[models.Model], dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
        self.newest_pk = self.newest_pks()

    # Times
    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.clamp(datetime.combine(day, time(hour, minute), tzinfo=self.tz))

    def clamp(self, moment: datetime) -> datetime:
        return min(moment, self.now - timedelta(minutes=5))

    def _night(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The 19:00 that began the night ``moment`` falls in, and the 08:00 that ends it; None by day."""
        local = moment.astimezone(self.tz)
        if 8 <= local.hour < 19:
            return None
        day = local.date() if local.hour >= 19 else local.date() - timedelta(days=1)
        return (
            datetime.combine(day, time(19), tzinfo=self.tz),
            datetime.combine(day + timedelta(days=1), time(8), tzinfo=self.tz),
        )

    def office_hours(self, moment: datetime) -> datetime:
        """A night-time moment squeezed into 08:00-09:00 the next morning. Order-preserving, never earlier."""
        night = self._night(moment)
        return moment if night is None else night[1] + (moment - night[0]) / 13

    def office_hours_before(self, moment: datetime) -> datetime:
        """A night-time moment squeezed into 18:00-19:00 the evening before. Order-preserving, never later."""
        night = self._night(moment)
        return moment if night is None else night[0] - timedelta(hours=1) + (moment - night[0]) / 13

    def between(self, start: datetime, end: datetime) -> datetime:
        start, end = self.clamp(start), self.clamp(end)
        if end <= start:
            return start
        return start + (end - start) * self.rng.random()  # one draw whatever the span: stays deterministic

    def business_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if is_business_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    # Back-dating
    def newest_pks(self) -> dict[type[models.Model], int]:
        """The highest primary key of each stamped model, in one query: this runs after every step."""
        quote = connection.ops.quote_name
        tables = [(quote(m._meta.db_table), quote(str(m._meta.pk.column))) for m in STAMPED]
        # Only table and column names from the models' metadata go into the SQL, never input.
        sql = "SELECT " + ", ".join(f"(SELECT MAX({pk}) FROM {table})" for table, pk in tables)  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        return {model: pk or 0 for model, pk in zip(STAMPED, row, strict=True)}

    def stamp_created(self, moment: datetime, held: Iterable[models.Model] = ()) -> None:
        """Give the rows created since the last call the creation time ``moment`` instead of "now".

        Called right after each step, in the seeding transaction. New rows are those with a higher
        primary key than the newest one seen before. ``held`` are instances the story keeps and
        passes to later services, which save them whole: those among the new rows get ``moment``
        in memory too, so a later save does not put "now" back.
        """
        seen, newest = self.newest_pk, self.newest_pks()
        for model, stamp in STAMPED.items():
            if newest[model] > seen[model]:
                model._default_manager.filter(pk__gt=seen[model], pk__lte=newest[model]).update(**{stamp: moment})
        for obj in held:
            if obj.pk > seen[type(obj)]:
                setattr(obj, STAMPED[type(obj)], moment)
        self.newest_pk = newest

    def backdate(self, obj: models.Model, **fields) -> None:
        """Set ``fields`` of a row the services updated "now" to past moments, at the end (in bulk)."""
        self.backdates[type(obj)][obj.pk].update(fields)

    def apply_backdates(self) -> None:
        for model, rows in self.backdates.items():
            groups: dict[tuple[str, ...], list[models.Model]] = defaultdict(list)
            for pk, values in rows.items():
                groups[tuple(sorted(values))].append(model(pk=pk, **values))
            for fields, objs in groups.items():
                model._default_manager.bulk_update(objs, list(fields), batch_size=200)

    # Plan
    def kinds(self) -> list[tuple[str, User | None, str]]:
        u, rng = self.users, self.rng
        n_triage = round(self.count * TRIAGE_SHARE / 200)
        n_closed = round(self.count * CLOSED_SHARE / 200)
        n_active = self.count - n_triage - n_closed
        weights: list[tuple[User, float]] = [
            (u.attorney, LEAD_WEIGHTS["attorney"]),
            (u.attorney2, LEAD_WEIGHTS["attorney2"]),
        ]
        weights.append((u.supervisor, LEAD_WEIGHTS["supervisor"]))
        weights += [(other, OTHERS_WEIGHT / len(u.others)) for other in u.others]
        kinds: list[tuple[str, User | None, str]] = [("active", lead, "") for lead in apportion(n_active, weights)]
        n_reassign = min(2, n_triage // 4)
        kinds += [("reassign", u.supervisor, "")] * n_reassign
        kinds += [("triage", None, "")] * (n_triage - n_reassign)
        for reason in apportion(n_closed, list(CLOSE_REASONS)):
            lead = None
            if reason not in (CloseReason.DECLINED, CloseReason.DUPLICATE):
                lead = weighted(rng, weights)
            kinds.append(("closed", lead, reason))
        return kinds

    def plan(self, kind: str, lead: User | None, reason: str) -> Plan:
        rng, today = self.rng, self.today
        places, notes = places_data(), notes_data()
        origin = weighted(rng, [(o, o.weight) for o in origins()])
        person = person_name(rng, origin, male=rng.random() < 0.82)
        site = weighted(rng, [(s, s.weight) for s in self.sites])
        registered_by = self.users.intake if rng.random() < 0.7 else self.users.supervisor
        if kind == "triage":
            r = rng.random()
            if r < 0.4:
                wait = timedelta(minutes=rng.randint(20, 24 * 60))
            elif r < 0.75:
                wait = timedelta(hours=rng.randint(24, 96))
            else:
                wait = timedelta(hours=rng.randint(96, 288))
            registered_at = self.office_hours_before(self.now - wait)
            detained_on = timezone.localdate(registered_at) - timedelta(days=rng.randint(0, 6))
        else:
            if kind == "reassign":
                detained_on = today - timedelta(days=rng.randint(25, 50))
            elif kind == "closed":
                detained_on = today - timedelta(days=rng.randint(75, 120))
            else:
                detained_on = today - timedelta(days=rng.randint(3, 120))
            lag = rng.randint(0, min(5, (today - detained_on).days - 2))
            registered_at = self.at(detained_on + timedelta(days=lag), rng.randint(8, 17), rng.randint(0, 59))

        border = rng.random() < 0.45
        if border:
            arrival = detained_on - timedelta(days=rng.randint(0, 2))
            where = rng.choice(places["border_places"])
        else:
            if rng.random() < 0.5:
                arrival = detained_on - timedelta(days=rng.randint(60, 360))
            else:
                arrival = date(rng.randint(2005, 2022), rng.randint(1, 12), rng.randint(1, 28))
            where = f"{rng.choice(places['interior_places'])} ({rng.choice(places['interior_circumstances'])})"

        languages = weighted(rng, origin.languages)
        needs_interpreter = not languages.startswith("English")
        if needs_interpreter and "English" not in languages and rng.random() < 0.07:
            languages, needs_interpreter = f"{languages}, English", False
        adult_on = date(detained_on.year - 18, detained_on.month, min(detained_on.day, 28))
        latest_birth = min(date(2007, 12, 31), adult_on - timedelta(days=1))
        birth_year = min(round(rng.triangular(1960, latest_birth.year, 1993)), latest_birth.year)
        dob = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        dob = min(dob, latest_birth)

        # The first active case is a child detained alone at the border (no extra random draws, so the
        # other cases stay as they were).
        minor = kind == "active" and not self.minor_planned
        if minor:
            self.minor_planned = True
            dob = date(detained_on.year - 16, detained_on.month, min(detained_on.day, 28)) - timedelta(days=100)

        flags = {"medical": False, "imminent": False, "children": False}
        if rng.random() < 0.15:
            for flag in rng.sample(list(flags), rng.choice((1, 1, 1, 2))):
                flags[flag] = True
        intake_note = ""
        raised = [f for f, on in flags.items() if on]
        if raised:
            intake_note = notes["flags"][raised[0]]
        elif rng.random() < 0.5:
            intake_note = rng.choice(notes["intake"])

        data = {
            "given_names": person.given,
            "family_names": person.family,
            "other_names": aliases(rng, person),
            "a_number": self.a_number() if rng.random() < 0.8 else None,
            "date_of_birth": dob,
            "country_of_birth": origin.country,
            "citizenship": origin.country,
            "languages": languages,
            "needs_interpreter": needs_interpreter,
            "detained_on": detained_on,
            "detained_where": where,
            "flag_medical": flags["medical"],
            "flag_minor_children": flags["children"],
            "flag_imminent_removal": flags["imminent"],
            "notes": intake_note,
            "contacts": contacts(rng, person, languages, dob),
        }
        if minor:
            data["contacts"] = [c for c in data["contacts"] if c["relationship"] not in ("husband", "wife")]
            data["custodian"] = Custodian.CBP
            arrival, border = detained_on, True
        return Plan(kind, lead, reason, person, data, site, registered_by, registered_at, arrival, border, minor)

    def a_number(self) -> str:
        while True:
            number = "2" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
            if number not in self.a_numbers:
                self.a_numbers.add(number)
                return number

    def other_site(self, site: Site) -> Site:
        others = [s for s in self.sites if s.facility.pk != site.facility.pk]
        if not others:
            return site
        elsewhere = [s for s in others if s.facility.state != site.facility.state]
        pool = elsewhere if elsewhere and self.rng.random() < 0.5 else others
        return weighted(self.rng, [(s, s.weight) for s in pool])

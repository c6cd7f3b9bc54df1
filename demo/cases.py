"""The demo casework: ``seed_casework()``, called by ``manage.py seed_demo``.

Every person, phone number, A-number and note is invented (see ``demo/data/README.md``). Cases are
made through ``casework.services`` only, exactly as staff make them, so case numbers, blind
indexes, custody periods, guardian permissions, computed deadlines, timeline events and access
events are all what the app itself would write. The services stamp everything "now"; each step's
rows are then moved back to when it is supposed to have happened (registration, assignments,
timeline, notes, hearings and deadlines as created), so the triage queue has varied waiting times
and every case tells a coherent story. Access events are left as they are: they truthfully record
that the seeding happened now.
"""

from __future__ import annotations

import random
from io import TextIOBase

from django.db import transaction
from django.db.models import Count

from casework.models import Assignment, AssignmentRole, Case, CaseStatus, Deadline, Hearing, Note
from demo.seeder import DemoUsers, Seeder
from demo.stories import Story


def _summary(users: DemoUsers, *, created: bool) -> dict:
    cases = Case.objects.filter(registered_by__in=users.registrars)
    by_status = dict(cases.order_by().values_list("status").annotate(n=Count("id")))
    leads = dict(
        Assignment.objects.filter(
            case__in=cases, case__status=CaseStatus.ACTIVE, role=AssignmentRole.LEAD, ended_at__isnull=True
        )
        .order_by()
        .values_list("attorney__email")
        .annotate(n=Count("id"))
    )
    return {
        "created": created,
        "cases": sum(by_status.values()),
        "triage": by_status.get(CaseStatus.TRIAGE, 0),
        "active": by_status.get(CaseStatus.ACTIVE, 0),
        "closed": by_status.get(CaseStatus.CLOSED, 0),
        "hearings": Hearing.objects.filter(case__in=cases).count(),
        "deadlines": Deadline.objects.filter(case__in=cases).count(),
        "notes": Note.objects.filter(case__in=cases).count(),
        "by_attorney": {u.email: leads.get(u.email, 0) for u in users.lawyers},
    }


def summary_line(summary: dict) -> str:
    """The one-line report of ``seed_casework``'s summary that ``seed_demo`` prints."""
    leads = ", ".join(f"{email.split('@')[0]} {n}" for email, n in summary["by_attorney"].items())
    verb = "created" if summary["created"] else "already there, nothing created"
    return (
        f"Demo casework {verb}: {summary['cases']} cases ({summary['triage']} in triage, {summary['active']} active, "
        f"{summary['closed']} closed), {summary['hearings']} hearings, {summary['deadlines']} deadlines, "
        f"{summary['notes']} notes; active cases led by {leads}."
    )


def seed_casework(*, stdout: TextIOBase | None = None, count: int = 200, seed: int = 2026) -> dict:
    """Create ``count`` fictional cases through the services, unless demo cases already exist.

    Needs the demo accounts (``demo.accounts``). Deterministic for a given ``seed`` on a given day
    (dates are relative to today). All or nothing: one transaction. Returns a summary (counts of
    cases by status, hearings, deadlines, notes, and active cases by lead attorney) and writes it
    as one line to ``stdout`` if given. Does not check DEBUG: ``seed_demo`` does.

    Side effects: everything the casework services write for each case (cases, people, custody,
    assignments and permissions, hearings, deadlines, relief, notes, timeline and access events),
    with the creation times moved into the past.
    """
    users = DemoUsers.load()
    if Case.objects.filter(registered_by__in=users.registrars).exists():
        summary = _summary(users, created=False)
    else:
        with transaction.atomic():
            seeder = Seeder(users, random.Random(seed), count)
            plans = [seeder.plan(kind, lead, reason) for kind, lead, reason in seeder.kinds()]
            plans.sort(key=lambda p: p.registered_at)
            for plan in plans:
                Story(seeder, plan).build()
            seeder.apply_backdates()
        summary = _summary(users, created=True)
    if stdout is not None:
        stdout.write(summary_line(summary))
    return summary

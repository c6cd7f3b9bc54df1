"""The steps one demo case is told in: each calls one casework service at a moment in the past.

A story queues steps with ``later(moment, step)``; ``run_queue`` runs them in time order. Right
after each step the rows it created are back-dated to its moment (``Seeder.stamp_created``). A step
returns the instances it made that the story keeps for later steps, so they are back-dated in
memory too (the services save them whole).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models

from accounts.models import User
from casework import services
from casework.deadlines import Rule
from casework.models import (
    APPEALABLE_DECISIONS,
    Appeal,
    AppearanceForum,
    Assignment,
    AssignmentRole,
    Case,
    CloseReason,
    Custodian,
    Deadline,
    DeadlineStatus,
    DecisionOutcome,
    DetentionFacility,
    Hearing,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
    ReleaseBasis,
    ReliefKind,
    ReliefStatus,
    Supervision,
    UacDetermination,
)
from casework.services.decisions import DecisionFields
from demo.chance import weighted
from demo.seeder import Plan, Seeder

Step = Callable[[datetime], Iterable[models.Model] | None]

# When hearings start; repeats make the busy slots busier.
HEARING_SLOTS = (
    "08:00",
    "08:30",
    "09:00",
    "09:00",
    "09:30",
    "10:00",
    "10:30",
    "11:00",
    "13:00",
    "13:00",
    "13:30",
    "14:00",
    "14:30",
    "15:00",
)


class CaseSteps:
    """One case's step queue and the steps it can take."""

    case: Case  # set by the register step, which every story begins with
    court: ImmigrationCourt  # set once the story knows where the person is held (``start_work``)
    work_from: datetime  # when the lead started work on the case
    court_from: datetime  # when the court was known

    def __init__(self, seeder: Seeder, plan: Plan) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.plan = plan
        self.u = seeder.users
        self.queue: list[tuple[datetime, int, Step]] = []
        self.seq = 0
        self.lead = plan.lead
        self.active: dict[int, Assignment] = {}
        self.interpreter = ""
        self.last_outcome: datetime | None = None  # when the outcome of the last hearing held was recorded
        if plan.data["needs_interpreter"]:
            self.interpreter = plan.data["languages"].split(",")[0].strip()

    @property
    def lead_attorney(self) -> User:
        """The lead of a story that has one (all but triage and closing straight from triage)."""
        assert self.lead is not None, self.plan.kind
        return self.lead

    # Mechanics
    def later(self, moment: datetime, step: Step) -> None:
        heapq.heappush(self.queue, (self.s.clamp(self.s.office_hours(moment)), self.seq, step))
        self.seq += 1

    def run_queue(self) -> None:
        while self.queue:
            moment, _seq, step = heapq.heappop(self.queue)
            self.step(moment, step)

    def step(self, moment: datetime, step: Step) -> None:
        held = step(moment)
        self.s.stamp_created(moment, held or ())

    # Steps
    def register(self) -> Step:
        def step(moment: datetime) -> Iterable[models.Model]:
            data = services.IntakeData(**{**self.plan.data, "facility": self.plan.site.facility})
            self.case = services.case_register(data=data, by=self.plan.registered_by)
            return (self.case, self.case.detainee)

        return step

    def assign(self, attorney: User, role: AssignmentRole) -> Step:
        def step(moment: datetime) -> Iterable[models.Model]:
            assignment = services.case_assign(case=self.case, attorney=attorney, role=role, by=self.u.supervisor)
            if role == AssignmentRole.LEAD:
                for pk, previous in list(self.active.items()):
                    if previous.role == AssignmentRole.LEAD:
                        self.s.backdate(previous, ended_at=moment)
                        del self.active[pk]
            self.active[attorney.pk] = assignment
            if "first_assigned_at" not in self.s.backdates[Case][self.case.pk]:
                self.s.backdate(self.case, first_assigned_at=moment)
            return (assignment,)

        return step

    def end_assignment(self, attorney: User) -> Step:
        def step(moment: datetime) -> None:
            assignment = self.active.pop(attorney.pk)
            services.assignment_end(assignment=assignment, by=self.u.supervisor)
            self.s.backdate(assignment, ended_at=moment)

        return step

    def details(self, **changes) -> Step:
        def step(moment: datetime) -> None:
            services.case_update_details(case=self.case, by=self.lead_attorney, **changes)
            if "court" in changes:
                self.case.court = changes["court"]

        return step

    def custody(
        self,
        custodian: Custodian,
        facility: DetentionFacility | None,
        day: date,
        release_basis: ReleaseBasis = ReleaseBasis.NONE,
        supervision: Supervision = Supervision.NONE,
    ) -> Step:
        def step(moment: datetime) -> None:
            services.custody_record_change(
                case=self.case,
                custodian=custodian,
                release_basis=release_basis,
                supervision=supervision,
                facility=facility,
                started_on=day,
                by=self.lead_attorney,
            )

        return step

    def release(self, basis: ReleaseBasis, day: date) -> Step:
        """A release on ``basis``; a third of those released on bond or parole are put on ATD/ISAP."""
        supervised = basis in (ReleaseBasis.BOND, ReleaseBasis.HUMANITARIAN_PAROLE) and self.rng.random() < 0.33
        supervision = Supervision.ATD if supervised else Supervision.NONE
        check_in = day + timedelta(days=self.rng.randint(20, 40))

        def step(moment: datetime) -> None:
            self.custody(Custodian.RELEASED, None, day, basis, supervision)(moment)
            if supervised and check_in > self.s.today:
                services.custody_update_supervision(
                    case=self.case, supervision=supervision, next_check_in_on=check_in, by=self.lead_attorney
                )

        return step

    def uac_determination(self, determination: UacDetermination, day: date, by: User) -> Step:
        def step(moment: datetime) -> Iterable[models.Model]:
            return services.case_record_uac_determination(
                case=self.case, determination=determination, determined_on=day, by=by
            )

        return step

    def appearance(self, forum: AppearanceForum, attorney: User, day: date) -> Step:
        def step(moment: datetime) -> Iterable[models.Model]:
            made = services.appearance_record(case=self.case, attorney=attorney, forum=forum, filed_on=day, by=attorney)
            return (made,)

        return step

    def note(self, body: str, privileged: bool, author: User | None = None) -> Step:
        def step(moment: datetime) -> None:
            services.note_add(case=self.case, body=body, privileged=privileged, by=author or self.lead_attorney)

        return step

    def relief(
        self, kind: ReliefKind, status: ReliefStatus, filed_on: date | None = None, decided_on: date | None = None
    ) -> Step:
        def step(moment: datetime) -> None:
            services.relief_save(
                case=self.case,
                kind=kind,
                status=status,
                filed_on=filed_on,
                decided_on=decided_on,
                by=self.lead_attorney,
            )

        return step

    def deadline_status(self, deadline: Deadline, status: DeadlineStatus) -> Step:
        def step(moment: datetime) -> None:
            services.deadline_set_status(deadline=deadline, status=status, by=self.lead_attorney)
            self.s.backdate(deadline, completed_at=moment)

        return step

    def manual_deadline(self, title: str, due: date, created: datetime) -> None:
        def step(moment: datetime) -> Iterable[models.Model]:
            deadline = services.deadline_add_manual(case=self.case, title=title, due_on=due, by=self.lead_attorney)
            today = self.s.today
            if due < today and self.rng.random() < 0.93:
                done = self.s.at(due - timedelta(days=self.rng.randint(0, 3)), 15)
                self.later(max(done, moment + timedelta(hours=1)), self.deadline_status(deadline, DeadlineStatus.DONE))
            elif due >= today and self.rng.random() < 0.15:
                self.later(self.s.between(moment, self.s.now), self.deadline_status(deadline, DeadlineStatus.DONE))
            return (deadline,)

        self.later(created, step)

    def rule_deadline(self, rule: Rule, source: date, created: datetime, done_at: datetime | None = None) -> None:
        def step(moment: datetime) -> Iterable[models.Model]:
            deadline = services.deadline_add_from_rule(
                case=self.case, rule=rule, source_date=source, by=self.lead_attorney
            )
            if done_at is not None:
                self.later(max(done_at, moment), self.deadline_status(deadline, DeadlineStatus.DONE))
            return (deadline,)

        self.later(created, step)

    def stay_watches_pass(self) -> None:
        """DHS let the automatic stay go (no EOIR-43, no appeal): its watches are done once their day passed."""
        watches = Deadline.objects.filter(
            case=self.case, rule__in=(Rule.DHS_STAY_NOTICE, Rule.DHS_STAY_APPEAL), status=DeadlineStatus.OPEN
        )
        for watch in watches:
            if watch.due_on < self.s.today:
                self.later(self.s.at(watch.due_on, 17), self.deadline_status(watch, DeadlineStatus.DONE))

    def hearing(
        self,
        kind: HearingKind,
        day: date,
        scheduled: datetime,
        outcome: HearingOutcome | DecisionOutcome | None = None,
        note: str = "",
        after: Callable[[Deadline | None, datetime], None] | None = None,
        decision: DecisionFields | None = None,
    ) -> datetime:
        """Schedule a hearing on ``day`` (and record its outcome if it is past); returns its start.

        A ``DecisionOutcome`` is the judge's decision that day (appeal reserved where one lies, unless
        ``decision`` says otherwise); ``after`` gets the first deadline it started.
        """
        court = self.court
        hour, minute = map(int, self.rng.choice(HEARING_SLOTS).split(":"))
        starts_at = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(court.timezone))
        medium = weighted(
            self.rng, [(HearingMedium.IN_PERSON, 55), (HearingMedium.VIDEO, 40), (HearingMedium.PHONE, 5)]
        )
        holder: dict[str, Hearing] = {}

        def schedule(moment: datetime) -> Iterable[models.Model]:
            hearing = services.hearing_schedule(
                case=self.case,
                kind=kind,
                starts_at=starts_at,
                court=court,
                medium=medium,
                interpreter_language=self.interpreter,
                by=self.lead_attorney,
            )
            self.case.court_id = self.case.court_id or court.pk
            holder["hearing"] = hearing
            return (hearing,)

        def decide(moment: datetime) -> Iterable[models.Model]:
            assert outcome is not None  # only queued below when there is one
            fields: DecisionFields | None = None
            if isinstance(outcome, DecisionOutcome):
                fields = DecisionFields(outcome=outcome, decided_on=day, note=note)
                if outcome in APPEALABLE_DECISIONS:
                    fields["appeal"] = Appeal.RESERVED
                fields.update(decision or {})
            made, deadlines = services.hearing_record_outcome(
                hearing=holder["hearing"],
                outcome=HearingOutcome.DECIDED if fields else HearingOutcome(outcome),
                note=note,
                decision=fields,
                by=self.lead_attorney,
            )
            deadline = deadlines[0] if deadlines else None
            if after is not None:
                after(deadline, moment)
            return (*deadlines, *([made] if made else []))

        self.later(min(scheduled, starts_at - timedelta(hours=20)), schedule)
        if outcome is not None:
            self.last_outcome = starts_at + timedelta(hours=self.rng.randint(2, 5))
            self.later(self.last_outcome, decide)
        return starts_at

    def close(self, reason: CloseReason, note: str) -> Step:
        def step(moment: datetime) -> None:
            services.case_close(case=self.case, reason=reason, note=note, by=self.lead or self.u.supervisor)
            self.s.backdate(self.case, closed_at=moment)

        return step

"""The tracks a demo case follows: the start of the work, hearings and their outcomes, relief,
deadlines, co-counsel and notes. ``Story`` (``demo/stories.py``) puts them together."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from casework.deadlines import Rule, compute_deadline
from casework.models import (
    AppearanceForum,
    AssignmentRole,
    CaseStage,
    Custodian,
    Deadline,
    DeadlineStatus,
    DecisionOutcome,
    DetentionAuthority,
    DhsCustody,
    HearingKind,
    HearingOutcome,
    ProceedingType,
    ReleaseBasis,
    ReliefKind,
    ReliefStatus,
)
from casework.services.decisions import DecisionFields
from demo.chance import weighted
from demo.people import indigenous_languages
from demo.places import places_data
from demo.seeder import notes_data
from demo.steps import CaseSteps


class CaseTracks(CaseSteps):
    """The parts of a case's story, each queueing steps at plausible moments."""

    def start_work(self, lead_changes: bool = True) -> tuple[datetime, date]:
        """Assignment, custody transfer and case details; returns when work began and the first free day."""
        rng, s, plan = self.rng, self.s, self.plan
        assigned = s.clamp(plan.registered_at + timedelta(hours=rng.randint(2, 72)))
        assigned = max(assigned, plan.registered_at + timedelta(minutes=30))
        lead = self.lead
        if lead_changes and lead != self.u.supervisor and rng.random() < 0.06:
            self.later(assigned, self.assign(self.u.supervisor, AssignmentRole.LEAD))
            assigned = s.between(assigned + timedelta(days=1), assigned + timedelta(days=3))
        self.later(assigned, self.assign(self.lead_attorney, AssignmentRole.LEAD))
        # The lead enters an appearance with the court (EOIR-28) the same day or the next.
        filed = timezone.localdate(assigned) + timedelta(days=rng.randint(0, 1))
        if filed < s.today:
            self.later(s.at(filed, 17, 30), self.appearance(AppearanceForum.COURT, self.lead_attorney, filed))

        site, free_from = plan.site, timezone.localdate(assigned) + timedelta(days=2)
        self.work_from = assigned + timedelta(minutes=rng.randint(20, 240))
        self.court_from = self.work_from  # the court is known once the person is where they will stay
        registered_on = timezone.localdate(plan.registered_at)
        last_move = min(registered_on + timedelta(days=14), s.today - timedelta(days=1))
        if last_move > registered_on and rng.random() < 0.3:  # moved after intake registered the first place
            site = s.other_site(site)
            moved = registered_on + timedelta(days=rng.randint(1, (last_move - registered_on).days))
            self.later(s.at(moved, 18), self.custody(Custodian.ICE, site.facility, moved))
            self.later(s.at(moved + timedelta(days=1), 11), self.note(notes_data()["transfer"], False))
            free_from = max(free_from, moved + timedelta(days=2))
            self.court_from = max(self.work_from, s.at(moved + timedelta(days=1), 12))
        self.court = site.court
        return assigned, free_from

    def past_days(self, n: int, first: date, last: date | None = None) -> list[date]:
        """``n`` business days in order between ``first`` and ``last`` (yesterday), or fewer if there is no room."""
        days = self.s.business_days(first, last or self.s.today - timedelta(days=1))
        if len(days) < 3 * n:
            n = len(days) // 3
        if n <= 0:
            return []
        size = len(days) // n
        return [self.rng.choice(days[i * size : (i + 1) * size]) for i in range(n)]

    def future_day(self, near: bool) -> date:
        today = self.s.today
        if near or self.rng.random() < 0.3:
            days = self.s.business_days(today + timedelta(days=1), today + timedelta(days=13))
        else:
            days = self.s.business_days(today + timedelta(days=14), today + timedelta(days=60))
        return self.rng.choice(days)

    def scheduled_before(self, day: date) -> datetime:
        """When a hearing on ``day`` was put on the calendar: a few days to weeks before, once the court was
        known and (for a reset) at the previous hearing."""
        s = self.s
        earliest = self.court_from + timedelta(minutes=5)
        if self.last_outcome is not None:  # set at that hearing
            earliest = max(earliest, s.office_hours(self.last_outcome) + timedelta(minutes=10))
        moment = s.at(day - timedelta(days=self.rng.randint(5, 25)), self.rng.randint(9, 17))
        if moment >= s.now - timedelta(hours=1):  # a future hearing: put on the calendar some time so far
            moment = s.between(earliest, s.now - timedelta(hours=1))
        return max(moment, earliest)

    def removal_track(self, proceeding: ProceedingType, free_from: date, near: bool) -> datetime | None:
        rng, s, plan = self.rng, self.s, self.plan
        withholding_only = proceeding == ProceedingType.WITHHOLDING_ONLY
        asylum_track = withholding_only or rng.random() < 0.75
        story = weighted(
            rng,
            [
                ("first_master", 25),
                ("master_individual", 30),
                ("bond_master", 20),
                ("master_bond_individual", 15),
                ("appeal", 10),
            ],
        )
        if withholding_only and story.startswith("bond"):
            story = "master_individual"
        if story == "appeal" and (near or not asylum_track):
            story = "master_individual"
        wanted = {"first_master": 0, "master_individual": 1, "bond_master": 1, "master_bond_individual": 2, "appeal": 2}
        past = self.past_days(wanted[story], free_from)
        if len(past) < wanted[story]:
            story = "first_master" if not past else "master_individual"
            past = past[:1] if past else []

        master_day = None
        future_kind = HearingKind.MASTER
        for i, day in enumerate(past):
            if story == "bond_master" or (story == "master_bond_individual" and i == 1):
                self.bond_hearing(day)
            elif story == "appeal" and i == 1:
                self.denied_at_merits(day, withholding_only)
            else:
                master_day = day
                self.hearing(
                    HearingKind.MASTER,
                    day,
                    self.scheduled_before(day),
                    HearingOutcome.CONTINUED,
                    rng.choice(notes_data()["continued"]),
                )
                future_kind = HearingKind.INDIVIDUAL
        future = None
        if story != "appeal":
            day = self.future_day(near)
            future = self.hearing(future_kind, day, self.scheduled_before(day))

        kinds = (
            [ReliefKind.WITHHOLDING, ReliefKind.CAT_WITHHOLDING]
            if withholding_only
            else [ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT_WITHHOLDING]
        )
        if asylum_track and story != "appeal":
            if future_kind == HearingKind.INDIVIDUAL and master_day is not None:
                filed = master_day
                for kind in kinds:
                    self.later(s.at(filed, 17), self.relief(kind, ReliefStatus.FILED, filed_on=filed))
            else:
                status = ReliefStatus.PREPARING if rng.random() < 0.6 else ReliefStatus.CONSIDERING
                filed = None
                for kind in kinds[:2]:  # CAT gets added when the application is filed
                    self.later(self.work_from + timedelta(hours=2), self.relief(kind, status))
            if (
                not withholding_only
                and plan.arrival
                and compute_deadline(Rule.ASYLUM_ONE_YEAR, plan.arrival).due >= timezone.localdate(self.work_from)
            ):
                done = s.at(filed, 17) + timedelta(minutes=5) if filed else None
                self.rule_deadline(Rule.ASYLUM_ONE_YEAR, plan.arrival, self.work_from + timedelta(hours=1), done)
            self.manual_deadlines("asylum", future)
        elif not asylum_track:
            kind = weighted(
                rng,
                [
                    (ReliefKind.CANCELLATION_NON_LPR, 40),
                    (ReliefKind.CANCELLATION_LPR, 15),
                    (ReliefKind.U_VISA, 15),
                    (ReliefKind.VOLUNTARY_DEPARTURE, 15),
                    (ReliefKind.PROSECUTORIAL_DISCRETION, 15),
                ],
            )
            status = weighted(
                rng, [(ReliefStatus.CONSIDERING, 3), (ReliefStatus.PREPARING, 4), (ReliefStatus.FILED, 3)]
            )
            filed = master_day if status == ReliefStatus.FILED and master_day else None
            if status == ReliefStatus.FILED and filed is None:
                status = ReliefStatus.PREPARING
            self.later(self.work_from + timedelta(hours=3), self.relief(kind, status, filed_on=filed))
            self.manual_deadlines("other", future)
        return future

    def bond_hearing(self, day: date) -> None:
        """A past bond hearing: granted (and, days later, released on bond) or denied (and maybe appealed)."""
        rng, s = self.rng, self.s
        granted = rng.random() < 0.55
        amount = rng.randrange(1500, 10001, 500)
        story = notes_data()["story"]
        note = story["bond_set"].format(amount=amount) if granted else rng.choice(story["bond_denied"])
        outcome = DecisionOutcome.BOND_GRANTED if granted else DecisionOutcome.BOND_DENIED
        filed = max(day - timedelta(days=rng.randint(3, 10)), timezone.localdate(self.work_from))
        self.later(s.at(filed, 16), self.note(notes_data()["bond_packet"], False))

        # A judge heard bond: ICE holds the person under INA 236(a).
        self.later(
            max(s.at(filed, 16, 5), self.court_from + timedelta(minutes=1)),
            self.details(detention_authority=DetentionAuthority.INA_236A),
        )

        def after(deadline: Deadline | None, moment: datetime) -> None:
            if granted:
                released = day + timedelta(days=rng.randint(1, 4))
                if released <= s.today:
                    self.later(s.at(released, 17), self.release(ReleaseBasis.BOND, released))
                if deadline is not None:
                    self.later(moment + timedelta(hours=1), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.stay_watches_pass()
            elif deadline is not None:
                self.settle_appeal(deadline, day, appeal_share=0.6)

        # DHS's own determination, drawn from the amount (not the random stream): no bond, or a bond
        # $5,000 above the judge's. Only no bond or $10,000 and more let DHS stay a grant (8 CFR 1003.19(i)(2)).
        dhs: DecisionFields = (
            {"dhs_custody": DhsCustody.NO_BOND}
            if amount % 1000 == 0
            else {"dhs_custody": DhsCustody.BOND_SET, "dhs_bond_cents": (amount + 5000) * 100}
        )
        decision: DecisionFields = {"bond_cents": amount * 100, **dhs} if granted else dhs
        self.hearing(HearingKind.BOND, day, self.scheduled_before(day), outcome, note, after, decision=decision)

    def settle_appeal(
        self,
        deadline: Deadline,
        decided: date,
        appeal_share: float,
        relief: tuple[ReliefKind, ...] = (),
        relief_filed: date | None = None,
    ) -> None:
        """An appealable decision: appealed (deadline done), not appealed (waived), or still thinking (open)."""
        rng, s = self.rng, self.s
        elapsed = (s.today - decided).days
        if elapsed > 14 and rng.random() < appeal_share:
            filed = decided + timedelta(days=rng.randint(10, min(28, elapsed)))
            self.later(s.at(filed, 16), self.deadline_status(deadline, DeadlineStatus.DONE))
            for kind in relief:
                self.later(
                    s.at(filed, 16, 5),
                    self.relief(kind, ReliefStatus.APPEALED, filed_on=relief_filed, decided_on=decided),
                )
            self.later(
                s.at(filed, 16, 10),
                self.note(notes_data()["story"]["appeal_filed"], False),
            )
            # An appeal to the Board needs the lead's notice of appearance there (Form EOIR-27).
            self.later(s.at(filed, 16, 15), self.appearance(AppearanceForum.BIA, self.lead_attorney, filed))
            if relief:  # an appeal of the merits: the case is before the Board now
                self.later(s.at(filed, 16, 20), self.details(stage=CaseStage.BIA))
        elif elapsed > 25:
            self.later(
                s.at(decided + timedelta(days=rng.randint(2, 6)), 12),
                self.deadline_status(deadline, DeadlineStatus.WAIVED),
            )

    def denied_at_merits(self, day: date, withholding_only: bool) -> None:
        rng = self.rng
        kinds = (
            [ReliefKind.WITHHOLDING, ReliefKind.CAT_WITHHOLDING]
            if withholding_only
            else [ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT_WITHHOLDING]
        )
        filed = max(day - timedelta(days=rng.randint(20, 40)), timezone.localdate(self.work_from))
        for kind in kinds:
            self.later(self.s.at(filed, 17), self.relief(kind, ReliefStatus.FILED, filed_on=filed))

        def after(deadline: Deadline | None, moment: datetime) -> None:
            for kind in kinds:
                self.later(
                    moment + timedelta(minutes=20),
                    self.relief(kind, ReliefStatus.DENIED, filed_on=filed, decided_on=day),
                )
            if deadline is not None:
                self.settle_appeal(deadline, day, appeal_share=0.95, relief=tuple(kinds), relief_filed=filed)

        note = rng.choice(notes_data()["story"]["merits_denied"])
        self.hearing(
            HearingKind.INDIVIDUAL, day, self.scheduled_before(day), DecisionOutcome.RELIEF_DENIED, note, after
        )
        self.later(self.s.at(day, 18), self.note(notes_data()["story"]["appeal_wanted"], True))

    def fear_track(self, proceeding: ProceedingType, free_from: date, near: bool) -> datetime:
        rng, s = self.rng, self.s
        review = (
            HearingKind.REASONABLE_FEAR if proceeding == ProceedingType.REASONABLE_FEAR else HearingKind.CREDIBLE_FEAR
        )
        past = self.past_days(1, free_from) if rng.random() < 0.5 else []
        self.later(
            self.work_from + timedelta(hours=2),
            self.relief(
                ReliefKind.ASYLUM if review == HearingKind.CREDIBLE_FEAR else ReliefKind.WITHHOLDING,
                ReliefStatus.CONSIDERING,
            ),
        )
        self.manual_deadlines("fear", None)
        if past:
            day = past[0]
            next_type = (
                ProceedingType.REMOVAL if review == HearingKind.CREDIBLE_FEAR else ProceedingType.WITHHOLDING_ONLY
            )
            paroled = review == HearingKind.CREDIBLE_FEAR and rng.random() < 0.35

            def after(deadline: Deadline | None, moment: datetime) -> None:
                self.later(moment + timedelta(hours=1), self.details(proceeding_type=next_type))
                if paroled and day + timedelta(days=3) <= s.today:
                    released = day + timedelta(days=rng.randint(1, 3))
                    self.later(s.at(released, 15), self.release(ReleaseBasis.HUMANITARIAN_PAROLE, released))

            self.hearing(
                review,
                day,
                self.scheduled_before(day),
                DecisionOutcome.FEAR_FOUND,
                notes_data()["story"]["fear_found"],
                after,
            )
            day = self.future_day(near)
            return self.hearing(
                HearingKind.MASTER if next_type == ProceedingType.REMOVAL else HearingKind.INDIVIDUAL,
                day,
                self.scheduled_before(day),
            )
        day = self.future_day(near or rng.random() < 0.5)  # fear reviews come fast
        return self.hearing(review, day, self.scheduled_before(day))

    def bond_track(self, free_from: date, near: bool) -> datetime:
        rng = self.rng
        past = self.past_days(1, free_from) if rng.random() < 0.4 else []
        for day in past:
            self.bond_hearing(day)
        self.manual_deadlines("bond", None)
        day = self.future_day(near)
        return self.hearing(HearingKind.MASTER if past else HearingKind.BOND, day, self.scheduled_before(day))

    def manual_deadlines(self, pool: str, hearing_at: datetime | None) -> None:
        rng = self.rng
        titles = rng.sample(
            notes_data()["manual_deadlines"][pool], min(len(notes_data()["manual_deadlines"][pool]), rng.randint(1, 2))
        )
        start = timezone.localdate(self.work_from)
        for title in titles:
            due = start + timedelta(days=rng.randint(5, 45))
            if hearing_at is not None:
                due = min(due, timezone.localdate(hearing_at) - timedelta(days=rng.randint(2, 10)))
            due = max(due, start + timedelta(days=1))
            self.manual_deadline(title, due, self.work_from + timedelta(hours=rng.randint(1, 48)))

    def co_counsel(self, assigned: datetime) -> None:
        rng, u = self.rng, self.u
        r = rng.random()
        if r < 0.12:
            role = AssignmentRole.CO_COUNSEL
        elif r < 0.18:
            role = AssignmentRole.BOND_ONLY
        else:
            return
        if self.lead == u.supervisor:
            helper = rng.choice([u.attorney, u.attorney2])
        elif role == AssignmentRole.CO_COUNSEL and rng.random() < 0.75:
            helper = u.supervisor
        else:
            helper = rng.choice([a for a in u.lawyers if a != self.lead and a != u.supervisor] or [u.supervisor])
        self.later(
            self.s.between(assigned + timedelta(hours=1), assigned + timedelta(days=10)), self.assign(helper, role)
        )

    def notes(self, until: datetime) -> None:
        rng, s = self.rng, self.s
        how_many = rng.choice((1, 2, 2, 3))
        first = self.work_from + timedelta(hours=rng.randint(2, 30))
        notes, story = notes_data(), notes_data()["story"]
        if self.interpreter:
            with_interpreter = story["with_interpreter"].format(language=self.interpreter)
        else:
            with_interpreter = story["without_interpreter"]
        bodies = []  # (text, privileged, opens the file: a first visit comes before anything else)
        if self.interpreter in indigenous_languages():
            bodies.append((notes["indigenous"].format(lang=self.interpreter), True, True))
        for body in rng.sample(notes["privileged"], 2):
            bodies.append((body["text"].format(with_interpreter=with_interpreter), True, body.get("opening", False)))
        for body in rng.sample(notes["admin"], 2):
            bodies.append((body.format(city=rng.choice(places_data()["sponsor_cities"])), False, False))
        rng.shuffle(bodies)
        bodies.sort(key=lambda b: not b[2])
        for i, (body, privileged, _opening) in enumerate(bodies[:how_many]):
            moment = first if i == 0 else s.between(first, until - timedelta(hours=1))
            self.later(moment, self.note(body, privileged))

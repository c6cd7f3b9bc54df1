"""The stories of the demo cases: waiting in triage, handed back, active, or closed for a reason.

Each story is told through the services step by step, exactly as staff would make the records,
and each step's rows are back-dated to the moment it is supposed to have happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from casework.models import (
    AssignmentRole,
    CloseReason,
    CustodyStatus,
    Deadline,
    DeadlineStatus,
    HearingKind,
    HearingOutcome,
    ProceedingType,
    ReliefKind,
    ReliefStatus,
)
from demo.chance import weighted
from demo.seeder import NEAR_HEARINGS_PER_ATTORNEY, notes_data
from demo.tracks import CaseTracks


class Story(CaseTracks):
    """One case, from registration to where it stands today."""

    def build(self) -> None:
        """Register the case, queue the steps of its kind of story, and take them in time order."""
        self.step(self.plan.registered_at, self.register())
        getattr(self, f"story_{self.plan.kind}")()
        self.run_queue()

    def story_triage(self) -> None:
        pass  # waiting in the queue is the whole story

    def story_reassign(self) -> None:
        """Assigned, then handed back: a conflict of interest surfaced. Back in triage, flagged."""
        assigned = self.plan.registered_at + timedelta(hours=self.rng.randint(4, 60))
        self.later(assigned, self.assign(self.lead_attorney, AssignmentRole.LEAD))
        ended = self.s.between(assigned + timedelta(days=3), self.s.now - timedelta(days=1))
        self.later(
            ended - timedelta(minutes=10),
            self.note(notes_data()["story"]["conflict_check"], True),
        )
        self.later(ended, self.end_assignment(self.lead_attorney))

    def story_active(self) -> None:
        rng, s, plan = self.rng, self.s, self.plan
        assigned, free_from = self.start_work()
        proceeding = weighted(
            rng,
            [
                (ProceedingType.REMOVAL, 62),
                (ProceedingType.WITHHOLDING_ONLY, 6),
                (ProceedingType.CREDIBLE_FEAR, 8 if plan.border else 1),
                (ProceedingType.EXPEDITED, 4 if plan.border else 0),
                (ProceedingType.REASONABLE_FEAR, 4),
                (ProceedingType.BOND, 10),
            ],
        )
        changes = {"court": self.court, "proceeding_type": proceeding, "last_arrival_on": plan.arrival}
        self.later(self.court_from, self.details(**changes))

        near = False
        if self.lead in (self.u.attorney, self.u.attorney2):
            near = s.near_hearings[self.lead.pk] < NEAR_HEARINGS_PER_ATTORNEY
        future: datetime | None
        if proceeding in (ProceedingType.CREDIBLE_FEAR, ProceedingType.EXPEDITED, ProceedingType.REASONABLE_FEAR):
            future = self.fear_track(proceeding, free_from, near)
        elif proceeding == ProceedingType.BOND:
            future = self.bond_track(free_from, near)
        else:
            future = self.removal_track(proceeding, free_from, near)
        if future is not None and future - s.now < timedelta(days=14):
            s.near_hearings[self.lead_attorney.pk] += 1

        self.co_counsel(assigned)
        self.notes(until=s.now)

    def story_closed(self) -> None:
        rng, s, reason = self.rng, self.s, CloseReason(self.plan.close_reason)
        story = notes_data()["story"]
        if self.lead is None:  # closed straight from triage
            waited = self.plan.registered_at + timedelta(hours=rng.randint(6, 96))
            note = {CloseReason.DECLINED: story["declined"], CloseReason.DUPLICATE: story["duplicate"]}[reason]
            self.later(waited, self.close(reason, note))
            return
        _assigned, free_from = self.start_work(lead_changes=False)
        proceeding = ProceedingType.CREDIBLE_FEAR if reason == CloseReason.LOST_CONTACT else ProceedingType.REMOVAL
        changes = {"court": self.court, "proceeding_type": proceeding, "last_arrival_on": self.plan.arrival}
        self.later(self.court_from, self.details(**changes))
        # Everything happened at least a month ago, so that removals and releases are in the past too.
        days = self.past_days(2, free_from, last=s.today - timedelta(days=30))
        if len(days) < 2:
            days = self.past_days(2, free_from) or [s.today - timedelta(days=2)]
            days = [days[0], days[-1]]
        first, second = days
        end = second  # the day of the last event before closing
        if reason == CloseReason.RELIEF_GRANTED:
            note = story["pleadings_taken"]
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            for kind in (ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT):
                self.later(s.at(first, 17), self.relief(kind, ReliefStatus.FILED, filed_on=first))
            granted = rng.choice((ReliefKind.ASYLUM, ReliefKind.ASYLUM, ReliefKind.WITHHOLDING))
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                decided = self.relief(granted, ReliefStatus.GRANTED, filed_on=first, decided_on=second)
                self.later(moment + timedelta(minutes=10), decided)
                if deadline is not None:
                    self.later(moment + timedelta(days=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.RECOGNIZANCE, None, end))

            label = ReliefKind(granted).label
            self.hearing(
                HearingKind.INDIVIDUAL,
                second,
                self.scheduled_before(second),
                HearingOutcome.RELIEF_GRANTED,
                story["relief_granted"].format(relief=label),
                after,
            )
            closed_note = story["closed_relief_granted"].format(relief=label)
        elif reason == CloseReason.TERMINATED:
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=1), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.RECOGNIZANCE, None, end))

            note = story["terminated"]
            self.hearing(
                HearingKind.MASTER, second, self.scheduled_before(second), HearingOutcome.TERMINATED, note, after
            )
            closed_note = story["closed_terminated"]
        elif reason == CloseReason.RELEASED_REFERRED:
            end = second + timedelta(days=rng.randint(1, 3))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                decided = self.relief(ReliefKind.BOND, ReliefStatus.GRANTED, filed_on=first, decided_on=second)
                self.later(moment + timedelta(minutes=30), decided)
                if deadline is not None:
                    self.later(moment + timedelta(hours=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.custody(CustodyStatus.BOND, None, end))

            note = story["bond_set"].format(amount=rng.randrange(2000, 15001, 500))
            self.later(s.at(first, 16), self.note(notes_data()["bond_packet"], False))
            self.hearing(
                HearingKind.BOND, second, self.scheduled_before(second), HearingOutcome.BOND_GRANTED, note, after
            )
            closed_note = story["closed_released_referred"]
        elif reason == CloseReason.REMOVED:
            note = rng.choice(notes_data()["continued"])
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            outcome = rng.choice((HearingOutcome.REMOVAL_ORDERED, HearingOutcome.RELIEF_DENIED))
            end = second + timedelta(days=rng.randint(10, 25))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=3), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 12), self.custody(CustodyStatus.REMOVED, None, end))

            self.hearing(
                HearingKind.INDIVIDUAL, second, self.scheduled_before(second), outcome, story["removal_ordered"], after
            )
            note = story["declines_appeal"]
            self.later(s.at(second + timedelta(days=2), 11), self.note(note, True))
            closed_note = story["closed_removed"]
        elif reason == CloseReason.LOST_CONTACT:
            released = first + timedelta(days=2)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                self.later(s.at(released, 15), self.custody(CustodyStatus.PAROLE, None, released))

            note = story["fear_found"]
            self.hearing(
                HearingKind.CREDIBLE_FEAR, first, self.scheduled_before(first), HearingOutcome.FEAR_FOUND, note, after
            )
            self.later(s.at(second, 10), self.note(story["unreachable"], False))
            closed_note = story["closed_lost_contact"]
        else:  # CloseReason.OTHER_COUNSEL
            note = story["attorney_preparation"]
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            closed_note = story["closed_other_counsel"]
        closing = s.at(end + timedelta(days=rng.randint(1, 5)), 16)
        if closing >= s.now - timedelta(hours=1):
            closing = s.between(s.at(end, 18), s.now - timedelta(hours=1))
        self.notes(until=closing)
        self.later(closing, self.close(reason, closed_note))

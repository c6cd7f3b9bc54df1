"""The stories of the demo cases: waiting in triage, handed back, active, or closed for a reason.

Each story is told through the services step by step, exactly as staff would make the records,
and each step's rows are back-dated to the moment it is supposed to have happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from casework.deadlines import Rule
from casework.models import (
    Appeal,
    AppearanceForum,
    AssignmentRole,
    CloseReason,
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
    RepresentationScope,
    UacDetermination,
)
from casework.services.decisions import DecisionFields
from demo.chance import weighted
from demo.seeder import NEAR_HEARINGS_PER_ATTORNEY, notes_data
from demo.tracks import CaseTracks

# The "bond only" representation is drawn with the proceedings (it used to be one).
BOND_ONLY = "bond_only"


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
        # The lead had entered an appearance: the court still holds them as counsel after they step back.
        filed = self.s.office_hours(assigned + timedelta(hours=2))
        self.later(
            filed, self.appearance(AppearanceForum.COURT, self.lead_attorney, timezone.localdate(self.s.clamp(filed)))
        )
        ended = self.s.between(assigned + timedelta(days=3), self.s.now - timedelta(days=1))
        self.later(
            ended - timedelta(minutes=10),
            self.note(notes_data()["story"]["conflict_check"], True),
        )
        self.later(ended, self.end_assignment(self.lead_attorney))

    def story_active(self) -> None:
        rng, s, plan = self.rng, self.s, self.plan
        if plan.minor:
            self.story_minor()
            return
        if s.showcase:
            {"in_absentia": self.story_in_absentia, "voluntary_departure": self.story_departure}[s.showcase.pop(0)]()
            return
        assigned, free_from = self.start_work()
        track = weighted(
            rng,
            [
                (ProceedingType.REMOVAL.value, 62),
                (ProceedingType.WITHHOLDING_ONLY.value, 6),
                (ProceedingType.CREDIBLE_FEAR.value, 8 if plan.border else 1),
                (ProceedingType.EXPEDITED.value, 4 if plan.border else 0),
                (ProceedingType.REASONABLE_FEAR.value, 4),
                (BOND_ONLY, 10),
            ],
        )
        bond_only = track == BOND_ONLY
        # Representation for the bond hearing alone happens in removal proceedings.
        proceeding = ProceedingType.REMOVAL if bond_only else ProceedingType(track)
        changes = {"court": self.court, "proceeding_type": proceeding, "last_arrival_on": plan.arrival}
        fear = proceeding in (ProceedingType.CREDIBLE_FEAR, ProceedingType.EXPEDITED, ProceedingType.REASONABLE_FEAR)
        if bond_only:
            changes.update(scope=RepresentationScope.BOND_ONLY, detention_authority=DetentionAuthority.INA_236A)
        elif fear or plan.border:
            changes["detention_authority"] = DetentionAuthority.INA_235B
        else:  # drawn from the case number, not the random stream, so the rest of the demo stays as it was
            changes["detention_authority"] = {0: DetentionAuthority.INA_236C, 1: DetentionAuthority.UNKNOWN}.get(
                self.case.pk % 7, DetentionAuthority.INA_236A
            )
        self.later(self.court_from, self.details(**changes))

        near = False
        if self.lead in (self.u.attorney, self.u.attorney2):
            near = s.near_hearings[self.lead.pk] < NEAR_HEARINGS_PER_ATTORNEY
        future: datetime | None
        if fear:
            future = self.fear_track(proceeding, free_from, near)
        elif bond_only:
            future = self.bond_track(free_from, near)
        else:
            future = self.removal_track(proceeding, free_from, near)
        if future is not None and future - s.now < timedelta(days=14):
            s.near_hearings[self.lead_attorney.pk] += 1

        self.co_counsel(assigned)
        self.notes(until=s.now)

    def story_in_absentia(self) -> None:
        """Released on recognizance; the hearing notice went to an old address and the master calendar
        hearing went ahead without the client: removal ordered in absentia. No appeal lies
        (8 CFR 1240.15); the attorney prepares a motion to rescind for lack of notice, which may be
        filed at any time, and the 180-day deadline for exceptional circumstances runs (INA 240(b)(5)(C))."""
        s, story = self.s, notes_data()["story"]
        _assigned, free_from = self.start_work(lead_changes=False)
        self.later(self.court_from, self.details(court=self.court, proceeding_type=ProceedingType.REMOVAL))
        days = self.past_days(2, free_from)
        if len(days) < 2:
            return
        released, missed = days
        self.later(s.at(released, 15), self.release(ReleaseBasis.RECOGNIZANCE, released))
        self.hearing(
            HearingKind.MASTER, missed, self.scheduled_before(missed), DecisionOutcome.IN_ABSENTIA, story["in_absentia"]
        )
        self.notes(until=s.now)

    def story_departure(self) -> None:
        """Voluntary departure at the end of proceedings, appeal waived: the bond posted within 5 business
        days (INA 240B(b)(3)); the departure date (60 days) still ahead or met."""
        s, story = self.s, notes_data()["story"]
        _assigned, free_from = self.start_work(lead_changes=False)
        self.later(self.court_from, self.details(court=self.court, proceeding_type=ProceedingType.REMOVAL))
        days = self.past_days(1, max(free_from, s.today - timedelta(days=40)))
        if not days:
            return
        (day,) = days

        def after(deadline: Deadline | None, moment: datetime) -> None:
            for made in Deadline.objects.filter(case=self.case, rule__in=(Rule.VD_BOND, Rule.VD_DEPARTURE)):
                if made.rule == Rule.VD_BOND or made.due_on < s.today:
                    done = min(moment + timedelta(days=2), s.now - timedelta(hours=2))
                    self.later(done, self.deadline_status(made, DeadlineStatus.DONE))

        decision = DecisionFields(
            appeal=Appeal.WAIVED, vd_days=60, vd_bond_cents=500_00, alternate_order=self.plan.person.origin.country
        )
        self.hearing(
            HearingKind.INDIVIDUAL,
            day,
            self.scheduled_before(day),
            DecisionOutcome.VD_GRANTED,
            story["vd_granted"],
            after,
            decision=decision,
        )
        self.notes(until=s.now)

    def story_minor(self) -> None:
        """A 16-year-old detained alone at the border: found unaccompanied, moved to ORR, in removal proceedings.

        The determination starts the HHS-notice (48 hours) and transfer (72 hours) deadlines and the
        age-out watch; the transfer to ORR meets the first two. No asylum one-year deadline: it does not
        apply to an unaccompanied child (INA 208(a)(2)(E)). The child may seek SIJS.
        """
        s, plan = self.s, self.plan
        assigned = max(s.clamp(plan.registered_at + timedelta(hours=3)), plan.registered_at + timedelta(minutes=30))
        self.later(assigned, self.assign(self.lead_attorney, AssignmentRole.LEAD))
        self.work_from = self.court_from = assigned + timedelta(minutes=30)
        self.court = plan.site.court
        registered_on = timezone.localdate(plan.registered_at)
        determined = min(registered_on, s.today)
        self.later(
            self.work_from, self.uac_determination(UacDetermination.UNACCOMPANIED, determined, self.lead_attorney)
        )
        moved = determined + timedelta(days=2)
        if moved <= s.today:
            self.later(s.at(moved, 15), self.custody(Custodian.ORR, None, moved))
        changes = {
            "court": self.court,
            "proceeding_type": ProceedingType.REMOVAL,  # 8 U.S.C. 1232(a)(5)(D): section 240 proceedings
            "last_arrival_on": plan.arrival,
        }
        self.later(self.work_from + timedelta(minutes=20), self.details(**changes))
        filed = timezone.localdate(assigned) + timedelta(days=1)
        if filed < s.today:
            self.later(s.at(filed, 17, 30), self.appearance(AppearanceForum.COURT, self.lead_attorney, filed))
        for kind in (ReliefKind.SIJS, ReliefKind.ASYLUM):
            self.later(self.work_from + timedelta(hours=2), self.relief(kind, ReliefStatus.CONSIDERING))
        day = self.future_day(near=False)
        self.hearing(HearingKind.MASTER, day, self.scheduled_before(day))
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
            for kind in (ReliefKind.ASYLUM, ReliefKind.WITHHOLDING, ReliefKind.CAT_WITHHOLDING):
                self.later(s.at(first, 17), self.relief(kind, ReliefStatus.FILED, filed_on=first))
            granted = rng.choice((ReliefKind.ASYLUM, ReliefKind.ASYLUM, ReliefKind.WITHHOLDING))
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                decided = self.relief(granted, ReliefStatus.GRANTED, filed_on=first, decided_on=second)
                self.later(moment + timedelta(minutes=10), decided)
                if deadline is not None:
                    self.later(moment + timedelta(days=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.release(ReleaseBasis.RECOGNIZANCE, end))

            label = ReliefKind(granted).label
            self.hearing(
                HearingKind.INDIVIDUAL,
                second,
                self.scheduled_before(second),
                DecisionOutcome.RELIEF_GRANTED,
                story["relief_granted"].format(relief=label),
                after,
            )
            closed_note = story["closed_relief_granted"].format(relief=label)
        elif reason == CloseReason.TERMINATED:
            end = second + timedelta(days=1)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=1), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 17), self.release(ReleaseBasis.RECOGNIZANCE, end))

            note = story["terminated"]
            self.hearing(
                HearingKind.MASTER, second, self.scheduled_before(second), DecisionOutcome.TERMINATED, note, after
            )
            closed_note = story["closed_terminated"]
        elif reason == CloseReason.RELEASED_REFERRED:
            end = second + timedelta(days=rng.randint(1, 3))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(hours=2), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.stay_watches_pass()
                self.later(s.at(end, 17), self.release(ReleaseBasis.BOND, end))

            amount = rng.randrange(2000, 8001, 500)
            note = story["bond_set"].format(amount=amount)
            self.later(s.at(first, 16), self.note(notes_data()["bond_packet"], False))
            self.hearing(
                HearingKind.BOND,
                second,
                self.scheduled_before(second),
                DecisionOutcome.BOND_GRANTED,
                note,
                after,
                decision={
                    "bond_cents": amount * 100,
                    "dhs_custody": DhsCustody.BOND_SET,
                    "dhs_bond_cents": amount * 200,
                },
            )
            closed_note = story["closed_released_referred"]
        elif reason == CloseReason.REMOVED:
            note = rng.choice(notes_data()["continued"])
            self.hearing(HearingKind.MASTER, first, self.scheduled_before(first), HearingOutcome.CONTINUED, note)
            outcome = rng.choice((DecisionOutcome.REMOVAL_ORDERED, DecisionOutcome.RELIEF_DENIED))
            end = second + timedelta(days=rng.randint(10, 25))

            def after(deadline: Deadline | None, moment: datetime) -> None:
                if deadline is not None:
                    self.later(moment + timedelta(days=3), self.deadline_status(deadline, DeadlineStatus.WAIVED))
                self.later(s.at(end, 12), self.custody(Custodian.REMOVED, None, end))

            self.hearing(
                HearingKind.INDIVIDUAL, second, self.scheduled_before(second), outcome, story["removal_ordered"], after
            )
            note = story["declines_appeal"]
            self.later(s.at(second + timedelta(days=2), 11), self.note(note, True))
            closed_note = story["closed_removed"]
        elif reason == CloseReason.LOST_CONTACT:
            released = first + timedelta(days=2)

            def after(deadline: Deadline | None, moment: datetime) -> None:
                self.later(s.at(released, 15), self.release(ReleaseBasis.HUMANITARIAN_PAROLE, released))

            note = story["fear_found"]
            self.hearing(
                HearingKind.CREDIBLE_FEAR, first, self.scheduled_before(first), DecisionOutcome.FEAR_FOUND, note, after
            )
            if second > released and self.case.pk % 2 == 0:
                # Released, the notice went astray, and the master calendar hearing went ahead without
                # the client: removal ordered in absentia. No appeal lies; the motion to rescind does.
                def missed(deadline: Deadline | None, moment: datetime) -> None:
                    if deadline is not None:
                        self.later(moment + timedelta(days=1), self.note(story["rescind_lost_contact"], True))

                self.hearing(
                    HearingKind.MASTER,
                    second,
                    self.scheduled_before(second),
                    DecisionOutcome.IN_ABSENTIA,
                    story["in_absentia"],
                    missed,
                )
            else:
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

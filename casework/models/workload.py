"""Each attorney's caseload, counted ahead of time for the supervisors' workload page.

Counting on every view would read every open assignment of every attorney (over a million rows
in a large network: seconds per view). The counts are kept here instead, by
``casework.services.workload``: recounted for the attorneys an assignment change touches, in that
change's transaction (so active cases and cases as lead are exact), and for everyone by a beat
task every few minutes (so hearings in the next 14 days and overdue deadlines, which change with
the clock and with every hearing or deadline, are at most that old; the page shows when).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Caseload(models.Model):
    attorney = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="caseload"
    )
    active_cases = models.PositiveIntegerField(default=0)
    lead_cases = models.PositiveIntegerField(default=0)
    hearings_14_days = models.PositiveIntegerField(default=0)
    overdue_deadlines = models.PositiveIntegerField(default=0)
    counted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"caseload of {self.attorney_id}: {self.active_cases}"

"""Appearances of record: which attorney the immigration court, the Board and DHS hold as counsel.

Assigning a new lead inside the fund changes nothing outside it: the court, the BIA and DHS keep
serving and calling the attorney whose notice of appearance they have (Form EOIR-28, 8 CFR 1003.17;
Form EOIR-27, 8 CFR 1003.38(g) and 1292.4(a); Form G-28, 8 CFR 292.4(a)) until a new one is filed —
before the immigration court, until a motion to substitute counsel is granted (EOIR Policy Manual,
Part I, 5.4(a)). So appearances are their own record, per forum.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.case import Case
from casework.models.hearing import Deadline


class AppearanceForum(models.TextChoices):
    COURT = "court", _("Immigration court (Form EOIR-28)")
    BIA = "bia", _("Board of Immigration Appeals (Form EOIR-27)")
    DHS = "dhs", _("DHS (Form G-28)")


# The form each forum takes, and who it is filed with: used in the filing task's title.
APPEARANCE_FORMS = {AppearanceForum.COURT: "EOIR-28", AppearanceForum.BIA: "EOIR-27", AppearanceForum.DHS: "G-28"}


class Appearance(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appearances")
    attorney = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appearances", verbose_name=_("attorney")
    )
    forum = models.CharField(_("before"), max_length=5, choices=AppearanceForum.choices)
    filed_on = models.DateField(_("filed on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # The task of filing a new appearance, created when this attorney stopped leading the case.
    replacement_task = models.ForeignKey(Deadline, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["forum", "-filed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "forum"], condition=Q(ended_on__isnull=True), name="casework_one_appearance_per_forum"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("filed_on")),
                name="casework_appearance_ends_after_filing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.forum} {self.attorney_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    @property
    def form_name(self) -> str:
        return APPEARANCE_FORMS[AppearanceForum(self.forum)]

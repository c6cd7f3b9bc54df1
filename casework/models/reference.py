"""Reference data seeded from the shipped fixtures in ``casework/data`` (real public names)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ImmigrationCourt(models.Model):
    code = models.CharField(max_length=8, blank=True)
    name = models.CharField(max_length=120, unique=True)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2)
    timezone = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        verbose_name = _("immigration court")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DetentionFacility(models.Model):
    # ICE's DETLOC code; a few facilities have none we could find, and those are told apart
    # by name and place instead (see the constraints).
    code = models.CharField(max_length=12, blank=True)
    name = models.CharField(max_length=160)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2)
    timezone = models.CharField(max_length=40)
    kind = models.CharField(max_length=30, blank=True)
    # A facility ICE no longer uses stays on the custody records that name it, but is not
    # offered when a new custody period is recorded.
    in_use = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="casework_facility_code_unique"),
            models.UniqueConstraint(
                fields=["name", "city", "state"], condition=Q(code=""), name="casework_codeless_facility_unique"
            ),
        ]
        verbose_name = _("detention facility")
        verbose_name_plural = _("detention facilities")

    def __str__(self) -> str:
        return f"{self.name} ({self.city}, {self.state})"

"""Boring factories. ``UserFactory(role=Role.ATTORNEY)`` makes a ready staff member with an authenticator."""

from __future__ import annotations

import factory
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_groups_set
from reports.models import ReportKind, ReportRun

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    # Not a Faker name: a random staff name could be a detainee's, and the PII watch would flag it.
    full_name = factory.Sequence(lambda n: f"Staffer{n} Equipo")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: Role | None, **kwargs) -> None:
        if create and extracted is not None:
            user_role_groups_set(user=self, role=extracted)

    @factory.post_generation
    def mfa(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted is not False:
            TOTP.activate(self, TOTP_SECRET)
            RecoveryCodes.activate(self)


def finished_report_run(*, by: User, name: str) -> ReportRun:
    """A January 2026 fund statement that ``by`` asked for, done, with a stored PDF and CSV."""
    run = ReportRun.objects.create(
        kind=ReportKind.FUND_STATEMENT,
        parameters={"from": "2026-01-01", "to": "2026-01-31", "fund": ""},
        requested_by=by,
        status=ReportRun.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
    )
    run.pdf.save(f"{name}.pdf", ContentFile(f"%PDF-1.7 {name}".encode()), save=False)
    run.csv.save(f"{name}.csv", ContentFile(b"a,b\r\n"), save=True)
    return run

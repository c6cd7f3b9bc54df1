"""Boring factories. ``UserFactory(role=Role.ATTORNEY)`` makes a ready staff member with an authenticator."""

from __future__ import annotations

import factory
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_groups_set

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    full_name = factory.Faker("name")
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

"""Create demo data for a local run. Refuses to run unless DEBUG is on."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_groups_set

DEMO_PASSWORD = "amparo-demo"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_ACCOUNTS = [
    ("intake@demo.amparo.test", "Inés Intake", Role.INTAKE),
    ("attorney@demo.amparo.test", "Ana Attorney", Role.ATTORNEY),
    ("attorney2@demo.amparo.test", "Beto Abogado", Role.ATTORNEY),
    ("supervisor@demo.amparo.test", "Sara Supervisor", Role.SUPERVISOR),
    ("finance@demo.amparo.test", "Fran Finance", Role.FINANCE),
    ("auditor@demo.amparo.test", "Aud Auditor", Role.AUDITOR),
    ("admin@demo.amparo.test", "Adi Admin", Role.ADMIN),
]


class Command(BaseCommand):
    help = "Create demo accounts (one per role) and demo data. Only with DEBUG on."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with a published password.")
        with transaction.atomic():
            for email, name, role in DEMO_ACCOUNTS:
                self._account(email, name, role)
        self.stdout.write("Demo accounts (password and authenticator are the same for all):")
        for email, _name, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role.label:<22} {email}")
        self.stdout.write(f"  password: {DEMO_PASSWORD}")
        self.stdout.write(
            f"  TOTP secret: {DEMO_TOTP_SECRET}  (add it to an authenticator app, or: oathtool --totp -b {DEMO_TOTP_SECRET})"
        )
        from casework.demo import seed_casework
        from funds.demo import seed_funds

        seed_casework(stdout=self.stdout)  # fictional cases; writes its one-line summary; skipped if already there
        seed_funds(stdout=self.stdout)  # fictional donors, payment requests and bonds on those cases
        self.stdout.write("")

    def _account(self, email: str, name: str, role: Role) -> User:
        user, _created = User.objects.get_or_create(email=email, defaults={"full_name": name})
        user.full_name = name
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user_role_groups_set(user=user, role=role)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)
        return user

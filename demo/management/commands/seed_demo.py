"""Create demo data for a local run. Refuses to run unless DEBUG is on."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_accounts_save
from demo.cases import seed_casework
from demo.money import seed_funds


class Command(BaseCommand):
    help = "Create demo accounts (one per role) and demo data. Only with DEBUG on."

    def handle(self, *args, **options) -> None:
        # The demo app is only installed with DEBUG on, but the tests install it with DEBUG off:
        # published passwords must never reach a database that is not a developer's.
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with a published password.")
        demo_accounts_save()
        self.stdout.write("Demo accounts (password and authenticator are the same for all):")
        for email, _name, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role.label:<22} {email}")
        self.stdout.write(f"  password: {DEMO_PASSWORD}")
        self.stdout.write(
            f"  TOTP secret: {DEMO_TOTP_SECRET}  (add it to an authenticator app, or: oathtool --totp -b {DEMO_TOTP_SECRET})"
        )
        seed_casework(stdout=self.stdout)  # fictional cases; writes its one-line summary; skipped if already there
        seed_funds(stdout=self.stdout)  # fictional donors, payment requests and bonds on those cases
        self.stdout.write("")

"""The demo's staff accounts: one per role, all with the same published password and authenticator."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_role_groups_set

DEMO_PASSWORD = "amparo-demo"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_DOMAIN = "@demo.amparo.test"

INTAKE_EMAIL = "intake@demo.amparo.test"
ATTORNEY_EMAIL = "attorney@demo.amparo.test"
ATTORNEY2_EMAIL = "attorney2@demo.amparo.test"
SUPERVISOR_EMAIL = "supervisor@demo.amparo.test"
DEMO_ACCOUNTS = [
    (INTAKE_EMAIL, "Inés Intake", Role.INTAKE),
    (ATTORNEY_EMAIL, "Ana Attorney", Role.ATTORNEY),
    (ATTORNEY2_EMAIL, "Beto Abogado", Role.ATTORNEY),
    (SUPERVISOR_EMAIL, "Sara Supervisor", Role.SUPERVISOR),
    ("finance@demo.amparo.test", "Fran Finance", Role.FINANCE),
    ("auditor@demo.amparo.test", "Aud Auditor", Role.AUDITOR),
    ("admin@demo.amparo.test", "Adi Admin", Role.ADMIN),
]


@transaction.atomic
def demo_account_save(*, email: str, full_name: str, role: Role) -> User:
    """Create or refresh one demo account so that it signs in with the demo password and TOTP secret.

    Side effects: the user is created if missing, made active, given ``full_name`` and exactly the
    groups of ``role``; a new account (or one without a usable password) gets the demo password, an
    existing one keeps its password (a changed demo password stays changed, and since the password
    hash is untouched, ``make demo`` restarts leave everyone signed in); a TOTP authenticator with
    ``DEMO_TOTP_SECRET`` and recovery codes are added if the user has none.
    """
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    user.full_name = full_name
    user.is_active = True
    if created or not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
    user.save()
    user_role_groups_set(user=user, role=role)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        RecoveryCodes.activate(user)
    return user


def demo_accounts_save() -> list[User]:
    """Create or refresh every account of ``DEMO_ACCOUNTS`` in one transaction (see ``demo_account_save``)."""
    with transaction.atomic():
        return [demo_account_save(email=email, full_name=name, role=role) for email, name, role in DEMO_ACCOUNTS]

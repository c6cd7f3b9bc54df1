"""The seeded staff: 1,000 attorneys (or as many as asked) and the other roles, each with MFA.

Every account seed_scale creates has an e-mail address at ``SEEDED_DOMAIN`` and the published
password ``STAFF_PASSWORD``: ``foreign_accounts`` counts the accounts it did not create, which is
how the command tells a throw-away database from one with real data.
"""

from __future__ import annotations

from datetime import datetime

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from demo.scale.bulk import Log

# The bench scripts sign in as these accounts: the domain stays the one bench/bigdata.py used.
SEEDED_DOMAIN = "bench.amparo.test"
STAFF_PASSWORD = "amparo-bench-only-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def foreign_accounts() -> int:
    """How many accounts in the database seed_scale did not create."""
    return User.objects.exclude(email__iendswith=f"@{SEEDED_DOMAIN}").count()


def ensure_staff(*, attorneys: int, joined: datetime, log: Log) -> dict[str, list[int]]:
    """The seeded accounts of each role, created up to the counts wanted; their ids by role."""
    wanted = {
        Role.ATTORNEY: attorneys,
        Role.SUPERVISOR: max(10, attorneys // 40),
        Role.INTAKE: max(5, attorneys // 50),
        Role.FINANCE: 3,
        Role.AUDITOR: 2,
        Role.ADMIN: 2,
    }
    password = make_password(STAFF_PASSWORD)
    out: dict[str, list[int]] = {}
    for role, count in wanted.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        seeded = User.objects.filter(groups=group, email__iendswith=f"@{SEEDED_DOMAIN}").order_by("pk")
        have = list(seeded.values_list("pk", flat=True))
        missing = count - len(have)
        if missing > 0:
            start = len(have)
            with transaction.atomic():
                users = User.objects.bulk_create(
                    [
                        User(
                            email=f"{role.value}{n:04d}@{SEEDED_DOMAIN}",
                            full_name=f"{role.value.capitalize()}{n:04d} Equipo",
                            password=password,
                            is_staff=role == Role.ADMIN,
                            date_joined=joined,
                        )
                        for n in range(start, start + missing)
                    ]
                )
                User.groups.through.objects.bulk_create(
                    [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users]
                )
                for user in users:
                    TOTP.activate(user, TOTP_SECRET)
                    RecoveryCodes.activate(user)
            have += [u.pk for u in users]
            log(f"  {missing} {role.value} accounts created")
        out[role.value] = have[:count]
    return out

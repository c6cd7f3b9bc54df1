"""``seed_demo`` as a newcomer runs it, and the same seed making the same cases. Apart from
test_demo_data.py, whose tests share one seeded database for the whole module."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q

from casework.models import Case, CaseStatus
from demo.accounts import ATTORNEY2_EMAIL, ATTORNEY_EMAIL
from demo.cases import seed_casework
from tests.demo.test_demo_data import _demo_accounts, _lead_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_accounts(db):
    """The accounts part of ``seed_demo`` alone (the command would also seed 200 cases)."""
    return _demo_accounts()


def test_the_same_seed_makes_the_same_cases(demo_accounts):
    def run() -> list[tuple]:
        with transaction.atomic():
            seed_casework(count=15, seed=7)
            made = list(
                Case.objects.order_by("number").values_list(
                    "number", "status", "detainee__given_names", "detainee__family_names", "detainee__a_number"
                )
            )
            transaction.set_rollback(True)
        return made

    first = run()
    assert len(first) == 15
    assert run() == first


def test_seed_demo_loads_the_full_demo_once(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo casework created: 200 cases (25 in triage, 150 active, 25 closed)" in out.getvalue()
    counts = Case.objects.aggregate(
        active=Count("id", filter=Q(status=CaseStatus.ACTIVE)), triage=Count("id", filter=Q(status="triage"))
    )
    assert counts == {"active": 150, "triage": 25}
    assert 60 <= len(_lead_cases(ATTORNEY_EMAIL, active_only=True)) <= 90
    assert 40 <= len(_lead_cases(ATTORNEY2_EMAIL, active_only=True)) <= 65

    out = StringIO()
    call_command("seed_demo", stdout=out)  # run twice: the accounts are refreshed, no case is added
    assert "already there, nothing created" in out.getvalue()
    assert Case.objects.count() == 200

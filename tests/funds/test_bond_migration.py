"""The bond lifecycle's migrations carry the bonds already there over, and back: nothing is lost.

Outstanding becomes posted, refunded stays refunded, forfeited stays forfeited; each is a delivery
bond the fund posted itself, posting method not recorded, posted on the day paid, with a history.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.roles import Role
from casework import services as casework_services
from funds.models import Bond, BondEvent
from tests.factories import UserFactory

BEFORE = [("funds", "0002_ledger_rules_and_funds")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _latest() -> list[tuple[str, str]]:
    return [node for node in MigrationExecutor(connection).loader.graph.leaf_nodes() if node[0] == "funds"]


def _old_bonds(apps, *, case_id: int, user_id: int) -> dict[str, int]:
    """Three bonds as the old schema held them: outstanding, refunded short by $20, forfeited."""
    Fund = apps.get_model("funds", "Fund")
    Transaction = apps.get_model("funds", "Transaction")
    Disbursement = apps.get_model("funds", "Disbursement")
    Bond = apps.get_model("funds", "Bond")
    fund = Fund.objects.get(slug="bond")
    ids = {}
    for n, (status, closed_on, refunded, interest) in enumerate(
        [
            ("outstanding", None, 0, 0),
            ("refunded", date(2025, 9, 1), 148_000, 120),
            ("forfeited", date(2025, 10, 1), 0, 0),
        ]
    ):
        paid = Transaction.objects.create(key=f"disbursement:old{n}", kind="bond_paid", description="old")
        close = (
            Transaction.objects.create(key=f"bond-close:old{n}", kind=f"bond_{status}", description="old")
            if closed_on
            else None
        )
        disbursement = Disbursement.objects.create(
            case_id=case_id,
            fund=fund,
            purpose="bond",
            amount_cents=150_000,
            payee="DHS/ICE",
            reason="old",
            status="paid",
            requested_by_id=user_id,
            paid_on=date(2025, 3, 3 + n),
            transaction=paid,
        )
        ids[status] = Bond.objects.create(
            disbursement=disbursement,
            case_id=case_id,
            fund=fund,
            amount_cents=150_000,
            paid_on=date(2025, 3, 3 + n),
            status=status,
            closed_on=closed_on,
            refunded_cents=refunded,
            interest_cents=interest,
            closed_by_id=user_id if closed_on else None,
            close_transaction=close,
        ).pk
    return ids


@pytest.mark.django_db(transaction=True)
def test_existing_bonds_are_carried_over_to_the_lifecycle_and_back():
    intake = UserFactory(role=Role.INTAKE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Old", family_names="Bond"), by=intake
    )
    latest = _latest()
    executor = _migrate(BEFORE)
    ids = _old_bonds(executor.loader.project_state(BEFORE).apps, case_id=case.pk, user_id=intake.pk)

    _migrate(latest)

    posted, refunded, forfeited = (Bond.objects.get(pk=ids[s]) for s in ("outstanding", "refunded", "forfeited"))
    assert [(b.status, b.closed_on) for b in (posted, refunded, forfeited)] == [
        ("posted", None),
        ("refunded", date(2025, 9, 1)),
        ("forfeited", date(2025, 10, 1)),
    ]
    for bond in (posted, refunded, forfeited):
        assert (bond.bond_type, bond.obligor_kind, bond.posting_method, bond.posted_on) == (
            "delivery",
            "fund",
            "unknown",
            bond.paid_on,
        )
        assert (bond.amount_cents, bond.shortfall_cents, bond.due_from_obligor_cents) == (150_000, 0, 0)
    assert (refunded.refunded_on, refunded.refunded_cents, refunded.interest_cents) == (date(2025, 9, 1), 148_000, 120)
    assert posted.held_by_ice_cents == 150_000 and refunded.held_by_ice_cents == forfeited.held_by_ice_cents == 0
    history = {
        bond_id: list(BondEvent.objects.filter(bond_id=bond_id).values_list("action", "on", "amount_cents"))
        for bond_id in ids.values()
    }
    assert history == {
        ids["outstanding"]: [("posted", date(2025, 3, 3), 150_000)],
        ids["refunded"]: [("posted", date(2025, 3, 4), 150_000), ("refund_received", date(2025, 9, 1), 148_120)],
        ids["forfeited"]: [("posted", date(2025, 3, 5), 150_000), ("forfeited", date(2025, 10, 1), 150_000)],
    }
    assert "2000 cents withheld were written off" in BondEvent.objects.get(action="refund_received").note

    # And back: the three old states, as they were.
    executor = _migrate(BEFORE)
    OldBond = executor.loader.project_state(BEFORE).apps.get_model("funds", "Bond")
    assert sorted(OldBond.objects.values_list("status", "closed_on", "refunded_cents")) == [
        ("forfeited", date(2025, 10, 1), 0),
        ("outstanding", None, 0),
        ("refunded", date(2025, 9, 1), 148_000),
    ]
    _migrate(latest)

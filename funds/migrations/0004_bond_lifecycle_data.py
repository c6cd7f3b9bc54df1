"""Carry the existing bonds over to the lifecycle, nothing lost.

Before, a bond was outstanding, refunded or forfeited, always posted by the fund, of no recorded
type or posting method. So: outstanding becomes *posted*, refunded stays *refunded* (received on
its closing day), forfeited stays *forfeited*; every bond is a delivery bond, the fund its obligor,
its posting method "not recorded", posted with ICE on the day it was paid. Its history starts with
those steps. The ledger is not touched: an old refund below the principal was written off as
forfeited then, and its history says so.
"""

from django.db import migrations

CARRIED_OVER = "Carried over from before the bond lifecycle was recorded."


def forward(apps, schema_editor):
    Bond = apps.get_model("funds", "Bond")
    BondEvent = apps.get_model("funds", "BondEvent")
    for bond in Bond.objects.order_by("pk"):
        bond.posted_on = bond.paid_on
        bond.bond_type = "delivery"
        bond.obligor_kind = "fund"
        bond.posting_method = "unknown"
        if bond.status == "outstanding":
            bond.status = "posted"
        elif bond.status == "refunded":
            bond.refunded_on = bond.closed_on
        bond.save()
        BondEvent.objects.create(
            bond=bond, action="posted", on=bond.paid_on, amount_cents=bond.amount_cents, note=CARRIED_OVER
        )
        if bond.status == "refunded":
            withheld = bond.amount_cents - bond.refunded_cents
            note = CARRIED_OVER + (f" {withheld} cents withheld were written off as forfeited." if withheld else "")
            BondEvent.objects.create(
                bond=bond,
                action="refund_received",
                on=bond.closed_on,
                amount_cents=bond.refunded_cents + bond.interest_cents,
                note=note,
                recorded_by_id=bond.closed_by_id,
                transaction_id=bond.close_transaction_id,
            )
        elif bond.status == "forfeited":
            BondEvent.objects.create(
                bond=bond,
                action="forfeited",
                on=bond.closed_on,
                amount_cents=bond.amount_cents,
                note=CARRIED_OVER,
                recorded_by_id=bond.closed_by_id,
                transaction_id=bond.close_transaction_id,
            )


def backward(apps, schema_editor):
    """Back to three states: anything not refunded or forfeited is outstanding again; a bond refunded
    to its obligor (or short) counts as refunded on the day the refund came."""
    Bond = apps.get_model("funds", "Bond")
    apps.get_model("funds", "BondEvent").objects.all().delete()
    Bond.objects.filter(status__in=["due_from_obligor", "shortfall"]).exclude(refunded_on=None).update(
        status="refunded"
    )
    for bond in Bond.objects.filter(status="refunded", closed_on=None):
        bond.closed_on = bond.refunded_on
        bond.save(update_fields=["closed_on"])
    Bond.objects.exclude(status__in=["refunded", "forfeited"]).update(status="outstanding", closed_on=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0003_bond_lifecycle")]

    operations = [migrations.RunPython(forward, backward)]

"""The bond lifecycle, schema first: bond type, number, posting method, obligor, the dates of each
step, what is owed, and a history of steps. ``0004`` carries the existing bonds over; ``0005``
adds the constraints once every row fits them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

ACCOUNT_KINDS = [
    ("stripe_clearing", "Stripe clearing"),
    ("bank", "Bank"),
    ("bonds_receivable", "Bonds receivable"),
    ("obligor_receivable", "Bond refunds due from obligors"),
    ("bond_shortfalls", "Bond refund shortfalls in dispute"),
    ("donations", "Donations"),
    ("bond_interest", "Interest on bonds"),
    ("processing_fees", "Processing fees"),
    ("refunds", "Refunds to donors"),
    ("disputes", "Lost disputes and dispute fees"),
    ("program_expenses", "Program expenses"),
    ("bond_forfeitures", "Forfeited bonds"),
    ("bond_shortfall_loss", "Bond refund shortfalls written off"),
]
TRANSACTION_KINDS = [
    ("donation", "Donation"),
    ("fee", "Processing fee"),
    ("refund", "Refund"),
    ("dispute", "Dispute"),
    ("dispute_won", "Dispute won"),
    ("payout", "Payout to bank"),
    ("disbursement", "Disbursement"),
    ("bond_paid", "Bond paid"),
    ("bond_refunded", "Bond refunded"),
    ("bond_forfeited", "Bond forfeited"),
    ("bond_interest", "Interest on a forfeited bond"),
    ("bond_passed_back", "Bond refund passed back by the obligor"),
    ("bond_shortfall", "Bond refund shortfall resolved"),
    ("reversal", "Reversal"),
]
BOND_STATES = [
    ("posted", "Posted"),
    ("cancelled", "Cancelled (I-391 received)"),
    ("refund_claimed", "Refund claimed"),
    ("due_from_obligor", "Refunded to the obligor, to pass back"),
    ("shortfall", "Refund short of the principal, in dispute"),
    ("refunded", "Refunded"),
    ("breached", "Breach notice (I-323) received"),
    ("appeal_filed", "Breach appealed (I-290B)"),
    ("forfeited", "Forfeited"),
]
EVENT_ACTIONS = [
    ("posted", "Posted with ICE"),
    ("cancellation_notice", "Cancellation notice (I-391) received"),
    ("refund_claimed", "Refund claimed"),
    ("refund_received", "Refund received"),
    ("passed_back", "Refund passed back to the fund by the obligor"),
    ("shortfall_resolved", "Shortfall resolved"),
    ("breach_notice", "Breach notice (I-323) received"),
    ("appeal_filed", "Appeal (I-290B) filed"),
    ("breach_withdrawn", "Breach withdrawn; bond in force again"),
    ("forfeited", "Breach upheld; bond forfeited"),
    ("breach_interest", "Interest to the date of breach received"),
]


def date_field(label):
    return models.DateField(blank=True, null=True, verbose_name=label)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0002_ledger_rules_and_funds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="account", name="kind", field=models.CharField(choices=ACCOUNT_KINDS, max_length=20)
        ),
        migrations.AlterField(
            model_name="transaction", name="kind", field=models.CharField(choices=TRANSACTION_KINDS, max_length=20)
        ),
        migrations.RemoveConstraint(model_name="bond", name="funds_outstanding_bond_not_closed"),
        # "outstanding" stays valid until 0004 maps it.
        migrations.AlterField(
            model_name="bond",
            name="status",
            field=models.CharField(choices=BOND_STATES, default="posted", max_length=20),
        ),
        migrations.AlterField(
            model_name="bond", name="amount_cents", field=models.PositiveIntegerField(verbose_name="amount posted (cents)")
        ),
        migrations.AlterField(
            model_name="bond", name="paid_on", field=models.DateField(verbose_name="paid from the bank on")
        ),
        migrations.AddField(
            model_name="bond",
            name="ordered_cents",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="amount ordered (cents)"),
        ),
        migrations.AddField(
            model_name="bond",
            name="bond_type",
            field=models.CharField(
                choices=[
                    ("delivery", "Delivery bond"),
                    ("voluntary_departure", "Voluntary departure bond"),
                    ("order_of_supervision", "Order of supervision bond"),
                ],
                default="delivery",
                max_length=24,
                verbose_name="bond type",
            ),
        ),
        migrations.AddField(
            model_name="bond",
            name="bond_number",
            field=models.CharField(blank=True, max_length=40, verbose_name="bond number (Form I-352)"),
        ),
        migrations.AddField(
            model_name="bond",
            name="posting_method",
            field=models.CharField(
                choices=[
                    ("cebonds_ach", "CeBONDS, ACH"),
                    ("cebonds_fedwire", "CeBONDS, Fedwire"),
                    ("cashiers_check", "Cashier's check at the ERO window"),
                    ("money_order", "Money order at the ERO window"),
                    ("unknown", "Not recorded"),
                ],
                default="unknown",
                max_length=20,
                verbose_name="posted through",
            ),
        ),
        # Nullable until 0004 fills it in for the bonds already there; 0005 makes it required.
        migrations.AddField(model_name="bond", name="posted_on", field=date_field("posted with ICE on")),
        migrations.AddField(
            model_name="bond",
            name="obligor_kind",
            field=models.CharField(
                choices=[("fund", "The fund (as a non-profit obligor)"), ("person", "A person")],
                default="fund",
                max_length=10,
                verbose_name="obligor",
            ),
        ),
        migrations.AddField(
            model_name="bond",
            name="obligor_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="obligor's name"),
        ),
        migrations.AddField(
            model_name="bond",
            name="obligor_phone",
            field=models.CharField(blank=True, max_length=40, verbose_name="obligor's phone"),
        ),
        migrations.AddField(
            model_name="bond", name="cancellation_notice_on", field=date_field("cancellation notice (I-391) dated")
        ),
        migrations.AddField(model_name="bond", name="refund_claimed_on", field=date_field("refund claimed on")),
        migrations.AddField(model_name="bond", name="refunded_on", field=date_field("refund received on")),
        migrations.AddField(model_name="bond", name="shortfall_cents", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(
            model_name="bond", name="due_from_obligor_cents", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(model_name="bond", name="passed_back_cents", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="bond", name="breached_on", field=date_field("date of breach (on the I-323)")),
        migrations.AddField(
            model_name="bond", name="breach_notice_on", field=date_field("breach notice (I-323) served on")
        ),
        migrations.AddField(
            model_name="bond",
            name="breach_service",
            field=models.CharField(
                blank=True,
                choices=[("mail", "By mail"), ("in_person", "In person")],
                max_length=10,
                verbose_name="served",
            ),
        ),
        migrations.AddField(model_name="bond", name="appeal_due_on", field=date_field("appeal (I-290B) due")),
        migrations.AddField(model_name="bond", name="appeal_filed_on", field=date_field("appeal (I-290B) filed on")),
        migrations.AddField(
            model_name="bond", name="breach_interest_on", field=date_field("interest to the breach received on")
        ),
        migrations.CreateModel(
            name="BondEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("action", models.CharField(choices=EVENT_ACTIONS, max_length=24)),
                ("on", models.DateField()),
                ("amount_cents", models.PositiveIntegerField(blank=True, null=True)),
                ("note", models.CharField(blank=True, max_length=300)),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "bond",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="events", to="funds.bond"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "transaction",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="funds.transaction",
                    ),
                ),
            ],
            options={"ordering": ["recorded_at", "id"]},
        ),
    ]

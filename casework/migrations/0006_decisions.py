# Decisions become records of their own (issue 9). A hearing's decision outcome used to live on the
# hearing, and its appeal deadline counted from the hearing's date. Each such hearing now gets a
# Decision (oral, on the hearing's local day, by the immigration judge; appeal reserved where one
# lies, as the old code assumed) and the hearing is marked "decided". The appeal deadlines follow
# their decision; where the client had WON, the old "file notice of appeal" task was DHS's appeal,
# so it becomes the "DHS appeal period ends" watch. Nothing is dropped: notes move to the decision.

import re
from zoneinfo import ZoneInfo

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

OLD_DECISIONS = {
    "bond_granted",
    "bond_denied",
    "relief_granted",
    "relief_denied",
    "removal_ordered",
    "terminated",
    "fear_found",
    "fear_affirmed",
}
APPEALABLE = {"bond_denied", "relief_denied", "removal_ordered", "bond_granted", "relief_granted", "terminated"}
WINS = {"bond_granted", "relief_granted", "terminated"}
DOLLARS = re.compile(r"\$\s?([\d,]+)(?:\.(\d{2}))?")


def _bond_cents(note):
    """The bond amount an old outcome note gave ("Bond set at $7,500"), as data; None if it gave none."""
    match = DOLLARS.search(note or "")
    if not match:
        return None
    cents = int(match.group(1).replace(",", "")) * 100 + int(match.group(2) or 0)
    return cents if cents >= 1_500_00 else None


def forward(apps, schema_editor):
    Hearing = apps.get_model("casework", "Hearing")
    Decision = apps.get_model("casework", "Decision")
    Deadline = apps.get_model("casework", "Deadline")
    for hearing in Hearing.objects.filter(outcome__in=OLD_DECISIONS).select_related("court").iterator():
        old = hearing.outcome
        zone = ZoneInfo(hearing.timezone_override or hearing.court.timezone)
        decision = Decision.objects.create(
            case_id=hearing.case_id,
            hearing_id=hearing.pk,
            forum="ij",
            outcome=old,
            decided_on=hearing.starts_at.astimezone(zone).date(),
            service="oral",
            appeal="reserved" if old in APPEALABLE else "not_applicable",
            bond_cents=_bond_cents(hearing.outcome_note) if old == "bond_granted" else None,
            note=hearing.outcome_note,
            recorded_by_id=hearing.created_by_id,
            recorded_at=hearing.created_at,
        )
        hearing.outcome = "decided"
        hearing.save(update_fields=["outcome"])
        for deadline in Deadline.objects.filter(hearing_id=hearing.pk, rule="bia_appeal"):
            deadline.decision_id = decision.pk
            if old in WINS:
                deadline.rule = "dhs_appeal_period"
                deadline.title = "DHS appeal period ends (watch): the order is final if DHS does not appeal"
                deadline.explanation = (
                    f"{deadline.explanation} The client won this decision, so the appeal is DHS's "
                    "(8 CFR 1241.1(c)); this was converted from an appeal task."
                ).strip()
            deadline.save(update_fields=["decision_id", "rule", "title", "explanation"])


def backward(apps, schema_editor):
    Hearing = apps.get_model("casework", "Hearing")
    Decision = apps.get_model("casework", "Decision")
    Deadline = apps.get_model("casework", "Deadline")
    for decision in Decision.objects.exclude(hearing=None).iterator():
        outcome = decision.outcome if decision.outcome in OLD_DECISIONS else "other"
        Hearing.objects.filter(pk=decision.hearing_id).update(outcome=outcome, outcome_note=decision.note[:300])
    Deadline.objects.filter(rule="dhs_appeal_period").update(rule="bia_appeal")
    Hearing.objects.filter(outcome__in=["decided", "reserved"]).update(outcome="other")
    Decision.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0005_hearing_timezone_override"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Decision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("forum", models.CharField(default="ij", max_length=3, verbose_name="decided by")),
                ("outcome", models.CharField(max_length=24, verbose_name="outcome")),
                ("decided_on", models.DateField(verbose_name="decided on")),
                ("service", models.CharField(default="oral", max_length=10, verbose_name="how it was served")),
                ("served_on", models.DateField(blank=True, null=True, verbose_name="served on")),
                ("appeal", models.CharField(default="reserved", max_length=14, verbose_name="appeal")),
                ("bond_cents", models.PositiveIntegerField(blank=True, null=True, verbose_name="bond set by the judge")),
                ("bond_conditions", models.JSONField(blank=True, default=list, verbose_name="conditions of release")),
                ("dhs_custody", models.CharField(blank=True, default="", max_length=8, verbose_name="DHS's custody determination")),
                ("dhs_bond_cents", models.PositiveIntegerField(blank=True, null=True, verbose_name="bond set by DHS")),
                ("dhs_stay_filed_on", models.DateField(blank=True, null=True, verbose_name="DHS filed Form EOIR-43 on")),
                ("dhs_appeal_filed_on", models.DateField(blank=True, null=True, verbose_name="DHS filed its notice of appeal on")),
                ("stay_ended_on", models.DateField(blank=True, null=True, verbose_name="automatic stay ended on")),
                ("vd_days", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="days to depart")),
                ("vd_bond_cents", models.PositiveIntegerField(blank=True, null=True, verbose_name="voluntary departure bond")),
                ("alternate_order", models.CharField(blank=True, max_length=80, verbose_name="alternate order: removal to")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="decisions", to="casework.case"
                    ),
                ),
                (
                    "hearing",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="decision",
                        to="casework.hearing",
                        verbose_name="hearing",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={"ordering": ["decided_on", "id"]},
        ),
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(fields=["case", "decided_on"], name="casework_de_case_id_e8bbde_idx"),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("served_on__isnull", True), ("service", "oral")),
                    models.Q(models.Q(("service", "oral"), _negated=True), ("served_on__isnull", False)),
                    _connector="OR",
                ),
                name="casework_written_decision_has_service_date",
            ),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(("served_on__isnull", True)) | models.Q(("served_on__gte", models.F("decided_on"))),
                name="casework_decision_served_after_made",
            ),
        ),
        migrations.AddField(
            model_name="deadline",
            name="decision",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="deadlines",
                to="casework.decision",
            ),
        ),
        # Appointments away from the immigration court (check-ins, interviews, habeas hearings).
        migrations.AlterField(
            model_name="hearing",
            name="court",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="casework.immigrationcourt",
                verbose_name="court",
            ),
        ),
        migrations.AddField(
            model_name="hearing",
            name="venue",
            field=models.CharField(blank=True, max_length=200, verbose_name="where"),
        ),
        migrations.AddConstraint(
            model_name="hearing",
            constraint=models.CheckConstraint(
                condition=models.Q(("court__isnull", False))
                | models.Q(models.Q(("venue", ""), _negated=True), models.Q(("timezone_override", ""), _negated=True)),
                name="casework_hearing_has_a_place_and_zone",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]

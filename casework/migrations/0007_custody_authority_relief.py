# Custody, detention authority, minors, relief and appearances of record (issue 9).
#
# Custody was one status mixing who holds the person with what a release rests on. It becomes a
# custodian and a release basis (plus ATD/ISAP supervision on top of a release), on the case and on
# every custody period:
#   detained → ICE; bond → released/bond; recognizance → released/recognizance;
#   parole → released/humanitarian parole (INA 212(d)(5)(A)); atd → released/other + supervision ATD;
#   removed → removed; unknown → unknown.
# "Bond only" leaves the proceedings and becomes a scope of representation (the proceeding is then
# "not yet known"). CAT relief becomes CAT withholding (the form the old rows most likely meant), with a
# timeline line saying so; bond leaves the relief list (it is custody): each bond relief row becomes a
# timeline line and is deleted. Nothing else is lost; the way back restores what it can.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CUSTODY_FORWARD = {
    "detained": ("ice", "", ""),
    "bond": ("released", "bond", ""),
    "recognizance": ("released", "recognizance", ""),
    "parole": ("released", "humanitarian_parole", ""),
    "atd": ("released", "other", "atd"),
    "removed": ("removed", "", ""),
    "unknown": ("unknown", "", ""),
}
RELIEF_STATUS_WORDS = {
    "considering": "considering",
    "preparing": "preparing",
    "filed": "filed",
    "granted": "granted",
    "denied": "denied",
    "appealed": "appealed",
    "withdrawn": "withdrawn",
}


def _custody_back(custodian, release_basis, supervision):
    if custodian in {"ice", "cbp", "orr", "criminal_detainer"}:
        return "detained"
    if custodian == "released":
        if supervision == "atd":
            return "atd"
        return {
            "bond": "bond",
            "recognizance": "recognizance",
            "conditional_parole": "parole",
            "humanitarian_parole": "parole",
        }.get(release_basis, "unknown")
    return custodian if custodian in {"removed", "unknown"} else "unknown"


def _checks_now(schema_editor):
    """Run PostgreSQL's deferred foreign-key checks now: it refuses ALTER TABLE while they are pending."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def forward(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    CustodyPeriod = apps.get_model("casework", "CustodyPeriod")
    Relief = apps.get_model("casework", "Relief")
    CaseEvent = apps.get_model("casework", "CaseEvent")
    for old, (custodian, basis, supervision) in CUSTODY_FORWARD.items():
        Case.objects.filter(custody_status=old).update(custodian=custodian, release_basis=basis, supervision=supervision)
        CustodyPeriod.objects.filter(status=old).update(custodian=custodian, release_basis=basis, supervision=supervision)
    Case.objects.filter(proceeding_type="bond").update(scope="bond_only", proceeding_type="unknown")
    now = django.utils.timezone.now()
    for relief in Relief.objects.filter(kind="cat"):
        relief.kind = "cat_withholding"
        relief.save(update_fields=["kind"])
        CaseEvent.objects.create(
            case_id=relief.case_id,
            at=now,
            kind="relief",
            summary=(
                "CAT relief is now recorded as CAT withholding of removal (8 CFR 1208.16(c)); "
                "change it to CAT deferral (8 CFR 1208.17) if that is what is sought."
            ),
        )
    for relief in Relief.objects.filter(kind="bond"):
        words = [f"Bond was tracked as relief: {RELIEF_STATUS_WORDS.get(relief.status, relief.status)}"]
        if relief.filed_on:
            words.append(f"requested {relief.filed_on.isoformat()}")
        if relief.decided_on:
            words.append(f"decided {relief.decided_on.isoformat()}")
        CaseEvent.objects.create(
            case_id=relief.case_id,
            at=now,
            kind="relief",
            summary=(", ".join(words) + ". Bond is custody, not relief: see the decisions and custody.")[:300],
        )
        relief.delete()
    _checks_now(schema_editor)


def backward(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    CustodyPeriod = apps.get_model("casework", "CustodyPeriod")
    Relief = apps.get_model("casework", "Relief")
    for model, field in ((Case, "custody_status"), (CustodyPeriod, "status")):
        for row in model.objects.all().iterator():
            setattr(row, field, _custody_back(row.custodian, row.release_basis, row.supervision))
            row.save(update_fields=[field])
    Case.objects.filter(scope="bond_only", proceeding_type="unknown").update(proceeding_type="bond")
    for relief in Relief.objects.filter(kind__in=["cat_withholding", "cat_deferral"]).order_by("kind"):
        # One CAT row per case before: withholding wins over deferral.
        if Relief.objects.filter(case_id=relief.case_id, kind="cat").exists():
            relief.delete()
        else:
            relief.kind = "cat"
            relief.save(update_fields=["kind"])
    _checks_now(schema_editor)


STATUS_CHOICES_OLD = [
    ("detained", "Detained"),
    ("bond", "Released on bond"),
    ("recognizance", "Released on recognizance"),
    ("parole", "Paroled"),
    ("atd", "Alternatives to detention"),
    ("removed", "Removed"),
    ("unknown", "Unknown"),
]
CUSTODIAN_CHOICES = [
    ("ice", "ICE detention"),
    ("cbp", "CBP custody"),
    ("orr", "ORR custody (unaccompanied child)"),
    ("criminal_detainer", "Criminal custody with an ICE detainer"),
    ("released", "Released"),
    ("removed", "Removed"),
    ("unknown", "Unknown"),
]
RELEASE_BASIS_CHOICES = [
    ("", "Not released"),
    ("bond", "Bond"),
    ("recognizance", "Recognizance"),
    ("conditional_parole", "Conditional parole (INA 236(a)(2)(B))"),
    ("humanitarian_parole", "Humanitarian parole (INA 212(d)(5)(A))"),
    ("order_of_supervision", "Order of supervision"),
    ("habeas", "Habeas (federal court order)"),
    ("other", "Other"),
]
SUPERVISION_CHOICES = [("", "None"), ("atd", "Alternatives to detention (ATD/ISAP)")]


def _custody_fields(model_name, *, with_default):
    default = {"default": "ice"} if with_default else {"default": "unknown"}
    return [
        migrations.AddField(
            model_name=model_name,
            name="custodian",
            field=models.CharField(choices=CUSTODIAN_CHOICES, max_length=20, verbose_name="custody", **default),
        ),
        migrations.AddField(
            model_name=model_name,
            name="release_basis",
            field=models.CharField(
                blank=True, choices=RELEASE_BASIS_CHOICES, default="", max_length=20, verbose_name="released on"
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="supervision",
            field=models.CharField(
                blank=True, choices=SUPERVISION_CHOICES, default="", max_length=8, verbose_name="supervision"
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0006_decisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # --- Custody split, detention authority, stage, scope, minors, asylum exception --------------
        *_custody_fields("case", with_default=True),
        *_custody_fields("custodyperiod", with_default=False),
        # The way back needs the old columns to accept any value while they are refilled.
        migrations.AlterField(
            model_name="case",
            name="custody_status",
            field=models.CharField(choices=STATUS_CHOICES_OLD, default="detained", max_length=15, verbose_name="custody"),
        ),
        migrations.AlterField(
            model_name="custodyperiod",
            name="status",
            field=models.CharField(choices=STATUS_CHOICES_OLD, default="unknown", max_length=15, verbose_name="custody"),
        ),
        migrations.AddField(
            model_name="case",
            name="next_check_in_on",
            field=models.DateField(blank=True, null=True, verbose_name="next check-in"),
        ),
        migrations.AddField(
            model_name="case",
            name="detention_authority",
            field=models.CharField(
                choices=[
                    ("unknown", "Not yet known"),
                    ("236a", "INA 236(a): discretionary detention, bond possible"),
                    ("236c", "INA 236(c): mandatory detention (a Joseph hearing can contest it)"),
                    ("235b", "INA 235(b): applicant for admission, parole only"),
                    ("241", "INA 241: detention after a final order"),
                ],
                default="unknown",
                max_length=8,
                verbose_name="detention authority",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="stage",
            field=models.CharField(
                choices=[
                    ("immigration_judge", "Immigration judge"),
                    ("bia", "Board of Immigration Appeals"),
                    ("petition_for_review", "Petition for review (court of appeals)"),
                    ("habeas", "Habeas (federal district court)"),
                ],
                default="immigration_judge",
                max_length=20,
                verbose_name="stage",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="scope",
            field=models.CharField(
                choices=[("full", "Full representation"), ("bond_only", "Bond only"), ("limited", "Limited scope")],
                default="full",
                max_length=10,
                verbose_name="scope of representation",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="uac_determination",
            field=models.CharField(
                choices=[
                    ("not_assessed", "Not assessed"),
                    ("unaccompanied", "Unaccompanied child"),
                    ("accompanied", "Minor with a parent or legal guardian"),
                    ("not_a_minor", "Not a minor"),
                ],
                default="not_assessed",
                max_length=14,
                verbose_name="unaccompanied-child determination",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="uac_determined_on",
            field=models.DateField(blank=True, null=True, verbose_name="determined on"),
        ),
        migrations.AddField(
            model_name="case",
            name="asylum_exception",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "None claimed"),
                    ("changed_circumstances", "Changed circumstances"),
                    ("extraordinary_circumstances", "Extraordinary circumstances"),
                ],
                default="",
                max_length=30,
                verbose_name="exception to the one-year deadline claimed",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="asylum_exception_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="exception: why, and when it arose"),
        ),
        migrations.AddField(
            model_name="case",
            name="citizenship_claimed",
            field=models.BooleanField(default=False, verbose_name="claims U.S. citizenship"),
        ),
        migrations.AlterField(
            model_name="case",
            name="proceeding_type",
            field=models.CharField(
                choices=[
                    ("removal", "Removal (INA 240)"),
                    ("expedited", "Expedited removal"),
                    ("credible_fear", "Credible fear review"),
                    ("reasonable_fear", "Reasonable fear review"),
                    ("withholding_only", "Withholding-only"),
                    ("reinstatement", "Reinstatement of a prior order (INA 241(a)(5))"),
                    ("administrative_removal", "Administrative removal (INA 238(b))"),
                    ("stipulated_removal", "Stipulated removal (INA 240(d))"),
                    ("asylum_only", "Asylum-only (8 CFR 1208.2(c))"),
                    ("other", "Other"),
                    ("unknown", "Not yet known"),
                    ("bond", "Bond only"),  # only until the data below has moved to the scope
                ],
                default="unknown",
                max_length=24,
                verbose_name="proceeding",
            ),
        ),
        migrations.AlterField(
            model_name="relief",
            name="kind",
            field=models.CharField(
                choices=[
                    ("asylum", "Asylum"),
                    ("withholding", "Withholding of removal"),
                    ("cat_withholding", "CAT: withholding of removal (8 CFR 1208.16(c))"),
                    ("cat_deferral", "CAT: deferral of removal (8 CFR 1208.17)"),
                    ("cancellation_lpr", "Cancellation of removal (permanent residents)"),
                    ("cancellation_non_lpr", "Cancellation of removal (non-permanent residents)"),
                    ("vawa_cancellation", "VAWA cancellation of removal (INA 240A(b)(2))"),
                    ("waiver_212h", "Waiver under INA 212(h)"),
                    ("waiver_212c", "Waiver under former INA 212(c)"),
                    ("nacara", "NACARA (special rule cancellation or adjustment)"),
                    ("registry", "Registry (INA 249)"),
                    ("daca", "Deferred Action for Childhood Arrivals (DACA)"),
                    ("citizenship_claim", "Claim to U.S. citizenship"),
                    ("sijs", "Special Immigrant Juvenile Status"),
                    ("u_visa", "U visa"),
                    ("t_visa", "T visa"),
                    ("adjustment", "Adjustment of status"),
                    ("tps", "Temporary Protected Status"),
                    ("voluntary_departure", "Voluntary departure"),
                    ("prosecutorial_discretion", "Prosecutorial discretion"),
                    ("other", "Other"),
                ],
                max_length=30,
                verbose_name="relief",
            ),
        ),
        # --- A second A-number --------------------------------------------------------------------
        migrations.AddField(
            model_name="detainee",
            name="other_a_numbers",
            field=models.CharField(blank=True, max_length=100, verbose_name="other A-numbers"),
        ),
        migrations.CreateModel(
            name="DetaineeANumberKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=64, unique=True)),
                (
                    "detainee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="a_number_keys",
                        to="casework.detainee",
                    ),
                ),
            ],
        ),
        # --- Appearances of record ----------------------------------------------------------------
        migrations.CreateModel(
            name="Appearance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "forum",
                    models.CharField(
                        choices=[
                            ("court", "Immigration court (Form EOIR-28)"),
                            ("bia", "Board of Immigration Appeals (Form EOIR-27)"),
                            ("dhs", "DHS (Form G-28)"),
                        ],
                        max_length=5,
                        verbose_name="before",
                    ),
                ),
                ("filed_on", models.DateField(verbose_name="filed on")),
                ("ended_on", models.DateField(blank=True, null=True, verbose_name="ended on")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "attorney",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="appearances",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="attorney",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="appearances", to="casework.case"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "replacement_task",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="casework.deadline",
                    ),
                ),
            ],
            options={
                "ordering": ["forum", "-filed_on", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("ended_on__isnull", True)),
                        fields=("case", "forum"),
                        name="casework_one_appearance_per_forum",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("ended_on__isnull", True), ("ended_on__gte", models.F("filed_on")), _connector="OR"),
                        name="casework_appearance_ends_after_filing",
                    ),
                ],
            },
        ),
        # --- Data ---------------------------------------------------------------------------------
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="case", name="custody_status"),
        migrations.RemoveField(model_name="custodyperiod", name="status"),
        migrations.AlterField(
            model_name="custodyperiod",
            name="custodian",
            field=models.CharField(choices=CUSTODIAN_CHOICES, max_length=20, verbose_name="custody"),
        ),
        migrations.AlterField(
            model_name="case",
            name="proceeding_type",
            field=models.CharField(
                choices=[
                    ("removal", "Removal (INA 240)"),
                    ("expedited", "Expedited removal"),
                    ("credible_fear", "Credible fear review"),
                    ("reasonable_fear", "Reasonable fear review"),
                    ("withholding_only", "Withholding-only"),
                    ("reinstatement", "Reinstatement of a prior order (INA 241(a)(5))"),
                    ("administrative_removal", "Administrative removal (INA 238(b))"),
                    ("stipulated_removal", "Stipulated removal (INA 240(d))"),
                    ("asylum_only", "Asylum-only (8 CFR 1208.2(c))"),
                    ("other", "Other"),
                    ("unknown", "Not yet known"),
                ],
                default="unknown",
                max_length=24,
                verbose_name="proceeding",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("custodian", "released"), models.Q(("release_basis", ""), ("supervision", "")), _connector="OR"),
                name="casework_release_basis_only_when_released",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("uac_determination", "unaccompanied"), _negated=True),
                    ("uac_determined_on__isnull", False),
                    _connector="OR",
                ),
                name="casework_uac_determination_has_date",
            ),
        ),
        migrations.AddConstraint(
            model_name="custodyperiod",
            constraint=models.CheckConstraint(
                condition=models.Q(("custodian", "released"), models.Q(("release_basis", ""), ("supervision", "")), _connector="OR"),
                name="casework_period_release_basis_only_when_released",
            ),
        ),
    ]

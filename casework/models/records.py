"""Notes, documents and the activity timeline of a case."""

from __future__ import annotations

from uuid import uuid4

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.case import Case
from kernel.fields import EncryptedTextField


class Note(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"))
    privileged = models.BooleanField(
        _("privileged"), default=True, help_text=_("Attorney-client privileged or attorney work product.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class DocumentKind(models.TextChoices):
    NOTICE = "notice", _("Notice to appear / hearing notice")
    DECISION = "decision", _("Decision or order")
    APPLICATION = "application", _("Application or filing")
    EVIDENCE = "evidence", _("Evidence")
    IDENTITY = "identity", _("Identity document")
    CORRESPONDENCE = "correspondence", _("Correspondence")
    OTHER = "other", _("Other")


def _document_path(instance: Document, filename: str) -> str:
    # Never the person's name or the original file name: a random name under the case's id.
    return f"documents/{instance.case_id}/{uuid4().hex}"


class Document(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("type"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.OTHER)
    title = EncryptedTextField(_("title"), max_length=200, single_line=True)
    # The content is encrypted by the storage (kernel/storage.py); the names of the file too.
    file = models.FileField(upload_to=_document_path, max_length=200)
    original_name = EncryptedTextField(max_length=200, single_line=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"document {self.pk} on {self.case_id}"


class CaseEvent(models.Model):
    """One line of a case's activity timeline, written by the services."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Attorney assigned")
        UNASSIGNED = "unassigned", _("Assignment ended")
        CUSTODY = "custody", _("Custody changed")
        HEARING = "hearing", _("Hearing")
        DECISION = "decision", _("Decision")
        DEADLINE = "deadline", _("Deadline")
        NOTE = "note", _("Note")
        DOCUMENT = "document", _("Document")
        RELIEF = "relief", _("Relief")
        DETAILS = "details", _("Details edited")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        ERASED = "erased", _("Personal data erased")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d}"

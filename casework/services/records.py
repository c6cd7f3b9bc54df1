from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import Case, CaseEvent, Document, DocumentKind, Note
from casework.services.history import case_changed, case_event
from kernel.uploads import ALLOWED_TYPES, UploadRejected, check_upload

# What a case file may hold (PDFs, photos and scans, office documents) and how it is judged (by its
# content, never by its name) live in ``kernel.uploads``: payment-request attachments pass the same checks.
__all__ = ["ALLOWED_TYPES", "DocumentRejected", "document_upload", "note_add"]

DocumentRejected = UploadRejected


@transaction.atomic
def note_add(*, case: Case, body: str, privileged: bool, by: User, ip_address: str | None = None) -> Note:
    """Add a note. Side effects: timeline (without the note's text); ``AccessEvent``."""
    if not body.strip():
        raise ValidationError({"body": _("Write something first.")})
    note = Note.objects.create(case=case, author=by, body=body.strip(), privileged=privileged)
    label = _("Privileged note added.") if privileged else _("Note added.")
    case_event(case, CaseEvent.Kind.NOTE, label, by)
    case_changed(case, by, f"note {note.pk} added", ip_address=ip_address)
    return note


@transaction.atomic
def document_upload(
    *, case: Case, upload: UploadedFile[bytes], kind: DocumentKind, title: str, by: User, ip_address: str | None = None
) -> Document:
    """Store an uploaded document privately after checking its size and real type.

    Side effects: the file is written to private storage under a random name; its SHA-256
    is kept; timeline; ``AccessEvent``. Raises ``DocumentRejected`` (nothing stored) for a
    file too large or of a type not accepted.
    """
    checked = check_upload(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        case=case,
        kind=kind,
        title=(title.strip() or upload.name or "")[:200],
        original_name=(upload.name or "")[:200],
        content_type=checked.content_type,
        size=checked.size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    # The rows first, the file last: if anything before fails, nothing was written to disk.
    document.file.name = "pending"
    document.save()
    case_event(case, CaseEvent.Kind.DOCUMENT, _("Document added: %(title)s") % {"title": document.title}, by)
    case_changed(case, by, f"document {document.pk} uploaded", ip_address=ip_address)
    document.file.save("upload", upload, save=False)
    document.save(update_fields=["file"])
    return document

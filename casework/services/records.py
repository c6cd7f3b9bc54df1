from __future__ import annotations

import hashlib

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import Case, CaseEvent, Document, DocumentKind, Note
from casework.services.history import case_changed, case_event

# What a case file may hold: PDFs, photos and scans, office documents. Judged by the file's
# content (its magic bytes), never by its name or the browser's word.
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "tif": "image/tiff",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
}


class DocumentRejected(ValidationError):
    pass


def _sniff(upload: UploadedFile[bytes]) -> tuple[str, str]:
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ALLOWED_TYPES:
        raise DocumentRejected(
            _("This file type is not accepted. Upload a PDF, an image (JPEG, PNG, HEIC…) or an office document.")
        )
    return kind.extension, ALLOWED_TYPES[kind.extension]


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
    limit = settings.DOCUMENT_MAX_BYTES
    # Django's upload handlers always give the size; a file built by hand may not know it.
    size = upload.size if upload.size is not None else sum(len(chunk) for chunk in upload.chunks())
    if size > limit:
        raise DocumentRejected(
            _("This file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise DocumentRejected(_("This file is empty."))
    _extension, content_type = _sniff(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        case=case,
        kind=kind,
        title=(title.strip() or upload.name or "")[:200],
        original_name=(upload.name or "")[:200],
        content_type=content_type,
        size=size,
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

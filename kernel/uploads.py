"""The checks every uploaded file passes before it is stored: a size limit, a type from an allow-list, and
a malware scan (``kernel.malware``, when ``UPLOAD_SCANNER_URL`` names a clamd).

The type is judged by the file's content (its magic bytes, read with ``filetype``), never by its name or
the browser's word: an HTML page or an SVG (which can carry script), or a program, renamed ``notice.pdf``
is refused. A file the scanner finds malware in, or cannot scan (it fails closed), is refused too. The
request carrying the file was already held to a size before it was read (``kernel.upload_limits``).
Case documents (``casework.services.records``) and payment-request attachments
(``funds.services.disbursements``) use these checks with one behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kernel.malware import MalwareFound, ScannerUnavailable, scan_upload

# What Amparo keeps: PDFs, photos and scans, office documents (extension → content type).
# Text formats (HTML, SVG, XML) are deliberately absent: a browser runs the script inside them.
ALLOWED_TYPES: Mapping[str, str] = {
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

# filetype recognises every format above from its first bytes; 8 KiB covers the longest signature.
SNIFF_BYTES = 8192


class UploadRejected(ValidationError):
    """An uploaded file that may not be stored; its message says why, for the person who chose it."""


@dataclass(frozen=True)
class CheckedUpload:
    """What the checks found: the file's size and its real type."""

    size: int
    extension: str
    content_type: str


def upload_size(upload: UploadedFile[bytes]) -> int:
    """The upload's size in bytes (Django's upload handlers give it; a file built by hand may not know it)."""
    if upload.size is not None:
        return upload.size
    return sum(len(chunk) for chunk in upload.chunks())


def sniff_type(upload: UploadedFile[bytes], allowed: Mapping[str, str] = ALLOWED_TYPES) -> tuple[str, str]:
    """The upload's ``(extension, content type)`` judged from its first bytes; ``UploadRejected`` if not allowed.

    The file is read from the start and left at the start.
    """
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in allowed:
        raise UploadRejected(
            _("This file type is not accepted. Upload a PDF, an image (JPEG, PNG, HEIC…) or an office document."),
            code="file_type",
        )
    return kind.extension, allowed[kind.extension]


def check_upload(
    upload: UploadedFile[bytes], *, max_bytes: int, allowed: Mapping[str, str] = ALLOWED_TYPES
) -> CheckedUpload:
    """Check ``upload`` before anything is stored: not empty, at most ``max_bytes``, an allowed type, no malware.

    Raises ``UploadRejected`` with a message for the person uploading (the file's size and the
    limit, "empty", the types accepted, the malware found, or "could not be checked"). Cheap checks
    first: the type is judged from the first ``SNIFF_BYTES``; only a file that passes is sent whole to
    the scanner (``kernel.malware.scan_upload``, which logs what it refuses). The file is left at the start.
    """
    size = upload_size(upload)
    if size > max_bytes:
        raise UploadRejected(
            _("This file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
            code="file_size",
        )
    if size == 0:
        raise UploadRejected(_("This file is empty."), code="empty")
    extension, content_type = sniff_type(upload, allowed)
    try:
        scan_upload(upload)
    except MalwareFound as found:
        raise UploadRejected(
            _("This file contains malware (%(signature)s) and was not saved.") % {"signature": found.signature},
            code="malware",
        ) from found
    except ScannerUnavailable as exc:
        raise UploadRejected(
            _("The file could not be checked for viruses just now; nothing was saved. Try again in a few minutes."),
            code="scan_failed",
        ) from exc
    return CheckedUpload(size=size, extension=extension, content_type=content_type)


# The Content-Security-Policy of every file Amparo sends for download (documents, attachments,
# statements, receipts): nothing in it may run, load anything or be framed, even if a browser is
# persuaded to open it in place.
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

"""Case documents: uploads judged by their content, stored privately, downloaded only by the case's people."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import services
from casework.models import AssignmentRole, Document
from tests.forms import once

PDF_TYPE = "application/pdf"
PNG_TYPE = "image/png"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minimal_pdf(padding: int = 0) -> bytes:
    """A one-page PDF with a correct cross-reference table (``padding`` bytes of comment make it bigger)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1, 8-bit RGBA
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")  # filter byte, then one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def minimal_docx() -> bytes:
    # filetype recognises a .docx by a ZIP whose first entry is [Content_Types].xml and one of the
    # next entries is under word/.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>Declaration</w:t></w:r></w:p></w:body></w:document>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
    return buffer.getvalue()


HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_AS_PDF = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
    b"<script>fetch('/cases/')</script></svg>"
)
EXE_AS_PDF = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


@pytest.fixture
def private_root(settings, tmp_path) -> Path:
    """Uploaded files go to a fresh private directory for each test."""
    root = tmp_path / "private"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": str(root)},
        },
    }
    return root


@pytest.fixture
def attorney_client(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def upload(client: Client, case, name: str, content: bytes, title: str = "Exhibit A"):
    return client.post(
        reverse("casework:document-upload", args=[case.number]),
        once(
            {
                "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
                "kind": "evidence",
                "title": title,
            }
        ),
    )


def stored_document(case, by, name: str = "notice.pdf", content: bytes | None = None) -> Document:
    return services.document_upload(
        case=case,
        upload=SimpleUploadedFile(name, content or minimal_pdf()),
        kind="notice",
        title="Notice of hearing",
        by=by,
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("notice.pdf", minimal_pdf(), PDF_TYPE),
        ("photo.png", one_pixel_png(), PNG_TYPE),
        ("declaration.docx", minimal_docx(), DOCX_TYPE),
    ],
    ids=["pdf", "png", "docx"],
)
def test_document_upload_stores_file_with_type_size_and_hash(
    attorney_client, assigned_case, attorney, private_root, name, content, content_type
):
    response = upload(attorney_client, assigned_case, name, content, title="Exhibit A")

    assert response.status_code == 302
    assert response["Location"] == reverse("casework:case-detail", args=[assigned_case.number]) + "#documents"
    document = Document.objects.get(case=assigned_case)
    assert document.content_type == content_type
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.title == "Exhibit A"
    assert document.kind == "evidence"
    assert document.original_name == name
    assert document.uploaded_by == attorney
    stored = Path(document.file.path).resolve()
    assert stored.is_relative_to(private_root.resolve())
    # Sealed on disk (kernel.storage), the same bytes when read back through the storage.
    assert content not in stored.read_bytes()
    with document.file.open("rb") as opened:
        assert opened.read() == content
    assert files_under(private_root) == [stored]


def test_document_upload_stored_name_reveals_neither_person_nor_original_name(
    attorney_client, assigned_case, private_root
):
    response = upload(attorney_client, assigned_case, "Jose-Hernandez-Lopez-passport.pdf", minimal_pdf())

    assert response.status_code == 302
    stored_name = Document.objects.get(case=assigned_case).file.name
    assert stored_name.startswith(f"documents/{assigned_case.pk}/")
    for word in ("jose", "hernandez", "lopez", "passport", ".pdf"):
        assert word not in stored_name.lower()


def test_private_storage_is_outside_static_files_and_has_no_public_url():
    location = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"]).resolve()
    public_dirs = [Path(django_settings.STATIC_ROOT).resolve()] + [
        Path(directory).resolve() for directory in django_settings.STATICFILES_DIRS
    ]

    for public in public_dirs:
        assert not location.is_relative_to(public)
        assert not public.is_relative_to(location)
    assert django_settings.STORAGES["default"]["OPTIONS"]["base_url"] is None


def test_document_stored_file_is_not_served_at_any_plain_url(attorney_client, assigned_case, attorney, private_root):
    document = stored_document(assigned_case, attorney)
    name = document.file.name

    responses = [
        attorney_client.get(f"/{name}"),
        attorney_client.get(f"/{django_settings.STATIC_URL.strip('/')}/{name}"),
        attorney_client.get(f"/media/{name}"),
        attorney_client.get(f"/private/{name}"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404]


@pytest.mark.parametrize("content", [HTML_AS_PDF, SVG_AS_PDF, EXE_AS_PDF], ids=["html", "svg", "exe"])
def test_document_upload_disguised_file_is_rejected_and_nothing_stored(
    attorney_client, assigned_case, private_root, content
):
    response = upload(attorney_client, assigned_case, "evil.pdf", content)

    assert response.status_code == 422
    assert response.context["form"].errors["file"] == [
        "This file type is not accepted. Upload a PDF, an image (JPEG, PNG, HEIC…) or an office document."
    ]
    assert "This file type is not accepted." in response.content.decode()
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(private_root) == []


def test_document_upload_oversize_file_is_rejected_with_size_message(
    attorney_client, assigned_case, private_root, settings
):
    settings.DOCUMENT_MAX_BYTES = 1024
    content = minimal_pdf(padding=2048)

    response = upload(attorney_client, assigned_case, "big.pdf", content)

    assert response.status_code == 422
    [message] = response.context["form"].errors["file"]
    assert message.startswith("This file is ")
    assert message.endswith("; the limit is 1.0\xa0KB.")
    assert "the limit is 1.0\xa0KB" in response.content.decode()
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(private_root) == []


def test_document_upload_file_at_the_limit_is_accepted(attorney_client, assigned_case, private_root, settings):
    content = minimal_pdf()
    settings.DOCUMENT_MAX_BYTES = len(content)

    response = upload(attorney_client, assigned_case, "exact.pdf", content)

    assert response.status_code == 302
    assert Document.objects.get(case=assigned_case).size == len(content)


def test_document_upload_empty_file_is_rejected(attorney_client, assigned_case, private_root):
    response = upload(attorney_client, assigned_case, "empty.pdf", b"")

    assert response.status_code == 422
    assert response.context["form"].errors["file"] == ["The submitted file is empty."]
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(private_root) == []


def test_document_upload_service_refuses_empty_file(assigned_case, attorney, private_root):
    with pytest.raises(services.DocumentRejected) as raised:
        services.document_upload(
            case=assigned_case, upload=SimpleUploadedFile("empty.pdf", b""), kind="other", title="", by=attorney
        )

    assert raised.value.messages == ["This file is empty."]
    assert Document.objects.count() == 0
    assert files_under(private_root) == []


def test_document_upload_by_unassigned_attorney_is_404(assigned_case, other_attorney, private_root):
    client = Client()
    client.force_login(other_attorney)

    response = upload(client, assigned_case, "notice.pdf", minimal_pdf())

    assert response.status_code == 404
    assert Document.objects.count() == 0
    assert files_under(private_root) == []


def test_document_download_by_assigned_attorney_returns_exact_bytes(
    attorney_client, assigned_case, attorney, private_root
):
    content = minimal_pdf()
    document = stored_document(assigned_case, attorney, content=content)

    response = attorney_client.get(reverse("casework:document-download", args=[assigned_case.number, document.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == PDF_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    events = AccessEvent.objects.filter(user=attorney, action=AccessEvent.Action.DOWNLOAD)
    assert [(event.object_type, event.object_ref) for event in events] == [("document", assigned_case.number)]


def test_document_download_filename_does_not_name_the_detainee(attorney_client, assigned_case, attorney, private_root):
    document = stored_document(assigned_case, attorney, name="José Hernández-López - passport.pdf")

    response = attorney_client.get(reverse("casework:document-download", args=[assigned_case.number, document.pk]))

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert f'filename="{assigned_case.number}-{document.pk}.pdf"' in disposition  # the checked type's extension
    for word in ("José", "Jos%C3%A9", "Jose", "Hernández", "Hern%C3%A1ndez", "Hernandez", "López", "Lopez", "passport"):
        assert word not in disposition


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_document_download_by_non_casework_role_is_404(client_for, assigned_case, attorney, private_root, role):
    document = stored_document(assigned_case, attorney)
    client = client_for(role)

    response = client.get(reverse("casework:document-download", args=[assigned_case.number, document.pk]))

    assert response.status_code == 404
    assert not AccessEvent.objects.filter(user=client.user, action=AccessEvent.Action.DOWNLOAD).exists()


def test_document_download_by_unassigned_attorney_is_404(assigned_case, attorney, other_attorney, private_root):
    document = stored_document(assigned_case, attorney)
    client = Client()
    client.force_login(other_attorney)

    response = client.get(reverse("casework:document-download", args=[assigned_case.number, document.pk]))

    assert response.status_code == 404
    assert not AccessEvent.objects.filter(user=other_attorney, action=AccessEvent.Action.DOWNLOAD).exists()


def test_document_download_of_other_cases_document_is_404(
    attorney_client, assigned_case, register_case, intake_worker, supervisor, attorney, private_root
):
    # The attorney may see both cases; a document is still only reachable under its own case.
    other_case = register_case(by=intake_worker, given_names="Rosa", family_names="Méndez", a_number="098765432")
    services.case_assign(case=other_case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    other_document = stored_document(other_case, attorney)

    response = attorney_client.get(
        reverse("casework:document-download", args=[assigned_case.number, other_document.pk])
    )

    assert response.status_code == 404
    assert not AccessEvent.objects.filter(user=attorney, action=AccessEvent.Action.DOWNLOAD).exists()

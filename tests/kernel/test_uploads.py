"""kernel.uploads: the size limit and the content-sniffed type every upload passes (no database)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

from kernel.uploads import ALLOWED_TYPES, UploadRejected, check_upload, sniff_type
from tests.casework.test_documents import EXE_AS_PDF, HTML_AS_PDF, SVG_AS_PDF, minimal_docx, minimal_pdf, one_pixel_png

TYPE_REFUSED = "This file type is not accepted. Upload a PDF, an image (JPEG, PNG, HEIC…) or an office document."


@pytest.mark.parametrize(
    ("content", "extension", "content_type"),
    [
        (minimal_pdf(), "pdf", "application/pdf"),
        (one_pixel_png(), "png", "image/png"),
        (minimal_docx(), "docx", ALLOWED_TYPES["docx"]),
    ],
    ids=["pdf", "png", "docx"],
)
def test_check_upload_accepts_allowed_types_judged_by_content(content, extension, content_type):
    # The name says .txt: only the bytes count.
    upload = SimpleUploadedFile("scan.txt", content, content_type="text/plain")

    checked = check_upload(upload, max_bytes=1024 * 1024)

    assert (checked.size, checked.extension, checked.content_type) == (len(content), extension, content_type)
    assert upload.tell() == 0  # left at the start, ready to be stored


@pytest.mark.parametrize(
    "content",
    [SVG_AS_PDF, HTML_AS_PDF, EXE_AS_PDF, b"plain text that names nobody"],
    ids=["svg", "html", "exe", "text"],
)
def test_check_upload_refuses_svg_html_programs_and_text_whatever_the_name(content):
    upload = SimpleUploadedFile("invoice.pdf", content, content_type="application/pdf")

    with pytest.raises(UploadRejected) as raised:
        check_upload(upload, max_bytes=1024 * 1024)

    assert raised.value.messages == [TYPE_REFUSED]
    assert raised.value.code == "file_type"


def test_check_upload_refuses_a_file_over_the_limit_with_both_sizes():
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"x" * (3072 - 9))

    with pytest.raises(UploadRejected) as raised:
        check_upload(upload, max_bytes=2048)

    assert raised.value.messages == ["This file is 3.0\xa0KB; the limit is 2.0\xa0KB."]
    assert raised.value.code == "file_size"


def test_check_upload_accepts_a_file_exactly_at_the_limit():
    content = minimal_pdf()

    assert check_upload(SimpleUploadedFile("exact.pdf", content), max_bytes=len(content)).size == len(content)


def test_check_upload_refuses_an_empty_file():
    with pytest.raises(UploadRejected) as raised:
        check_upload(SimpleUploadedFile("empty.pdf", b""), max_bytes=1024)

    assert raised.value.messages == ["This file is empty."]


def test_check_upload_measures_a_file_whose_size_is_unknown():
    content = minimal_pdf(padding=5000)
    upload = InMemoryUploadedFile(io.BytesIO(content), "file", "built.pdf", "application/pdf", None, None)

    with pytest.raises(UploadRejected) as raised:
        check_upload(upload, max_bytes=4096)

    assert raised.value.code == "file_size"


def test_sniff_type_honours_a_narrower_allow_list():
    upload = SimpleUploadedFile("photo.png", one_pixel_png())

    with pytest.raises(UploadRejected):
        sniff_type(upload, {"pdf": "application/pdf"})
    assert sniff_type(upload) == ("png", "image/png")

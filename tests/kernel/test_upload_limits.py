"""kernel.upload_limits: a request carrying files is refused by its declared size, before its body is read.

The refused requests here declare a length far beyond the few bytes they carry: had the app tried to
read the body, the test client's payload would have failed the test ("Cannot read more than the
available bytes").
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from casework.models import Document
from kernel.upload_limits import request_limit
from tests.casework.test_documents import files_under, minimal_pdf, upload

MB = 1024 * 1024
MULTIPART = "multipart/form-data; boundary=BoUnDaRy"
A_FEW_BYTES = b"--BoUnDaRy\r\n"


def post_declaring(client: Client, path: str, length: str | None, content_type: str = MULTIPART, **extra):
    """POST ``A_FEW_BYTES`` to ``path`` saying the body is ``length`` bytes; ``None``: an empty body and no length,
    as a chunked request reaches Django."""
    if length is None:
        return client.generic("POST", path, CONTENT_TYPE=content_type, **extra)
    return client.generic("POST", path, A_FEW_BYTES, content_type=content_type, CONTENT_LENGTH=length, **extra)


def test_a_declared_60_mb_upload_to_verify_is_refused_with_413_before_it_is_read():
    response = post_declaring(Client(), reverse("reports:verify"), str(60 * MB))

    assert response.status_code == 413
    text = response.content.decode()
    assert "This upload is 60 MB; this page accepts at most 51 MB." in text
    assert "Nothing was saved" in text
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still sees it


def test_a_case_document_upload_is_held_to_the_document_limit(attorney_client, assigned_case, private_root):
    path = reverse("casework:document-upload", args=[assigned_case.number])

    response = post_declaring(attorney_client, path, str(30 * MB))

    assert response.status_code == 413
    assert "this page accepts at most 21 MB" in response.content.decode()
    assert Document.objects.count() == 0
    assert files_under(private_root) == []


def test_each_page_has_the_limit_of_its_largest_file_plus_a_margin(settings):
    documents = reverse("casework:document-upload", args=["A-2025-0001"])

    assert request_limit(reverse("reports:verify")) == 50 * MB + MB
    assert request_limit(documents) == django_settings.DOCUMENT_MAX_BYTES + MB
    assert request_limit("/no/such/page/") == django_settings.DOCUMENT_MAX_BYTES + MB
    settings.UPLOAD_REQUEST_MAX_BYTES = 5 * MB
    assert request_limit(documents) == 5 * MB


def test_a_body_without_a_length_is_refused_with_411():
    chunked = post_declaring(Client(), reverse("reports:verify"), None, HTTP_TRANSFER_ENCODING="chunked")
    multipart_without_length = post_declaring(Client(), reverse("reports:verify"), None)

    assert chunked.status_code == 411
    assert "did not say how large it is" in chunked.content.decode()
    assert multipart_without_length.status_code == 411


def test_a_length_that_is_not_a_number_is_refused_with_400():
    response = post_declaring(Client(), reverse("reports:verify"), "lots")

    assert response.status_code == 400
    assert "length is not a number" in response.content.decode()


def test_the_refusal_is_in_the_language_the_browser_asks_for():
    response = post_declaring(Client(), reverse("reports:verify"), str(60 * MB), HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 413
    assert '<html lang="es">' in response.content.decode()


def test_a_large_form_without_files_is_bounded_by_django_before_it_is_read(db):
    # Not multipart: the middleware lets it through; Django refuses a body over
    # DATA_UPLOAD_MAX_MEMORY_SIZE by its length, before reading it.
    response = post_declaring(
        Client(), reverse("account_login"), str(60 * MB), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400


def test_an_upload_within_the_limit_is_stored(attorney_client, assigned_case, private_root, settings):
    settings.UPLOAD_REQUEST_MAX_BYTES = 64 * 1024  # a small page limit, well above this upload
    content = minimal_pdf()

    response = upload(attorney_client, assigned_case, "notice.pdf", content)

    assert response.status_code == 302
    assert Document.objects.get(case=assigned_case).size == len(content)
    assert len(files_under(private_root)) == 1


def test_an_upload_over_a_lowered_limit_is_refused_by_its_real_length(
    attorney_client, assigned_case, private_root, settings
):
    settings.UPLOAD_REQUEST_MAX_BYTES = 4 * 1024
    content = minimal_pdf(padding=8 * 1024)

    response = upload(attorney_client, assigned_case, "notice.pdf", content)

    assert response.status_code == 413
    assert Document.objects.count() == 0
    assert files_under(private_root) == []


def test_the_limit_runs_before_anything_reads_the_body():
    middleware = django_settings.MIDDLEWARE
    position = middleware.index("kernel.upload_limits.UploadLimitMiddleware")

    assert position < middleware.index("django.middleware.csrf.CsrfViewMiddleware")
    assert position < middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    # Only the HTTPS redirect and the request id (neither reads a body) come before it.
    assert middleware[position - 2 : position] == [
        "django.middleware.security.SecurityMiddleware",
        "kernel.request_context.RequestContextMiddleware",
    ]


def test_a_document_of_the_page_limit_stays_in_memory():
    # Personal documents are never written in the clear to a temporary file while they are checked.
    assert django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= django_settings.UPLOAD_REQUEST_MAX_BYTES

"""A request carrying files is refused by its declared size, before a byte of its body is read.

Django's upload handlers write a whole ``multipart/form-data`` body to memory or a temporary file
before any form sees it, so the size checks of the forms (``kernel.uploads.check_upload``, the report
verification form) would come after the server had taken in whatever was sent. This middleware runs
first (right after ``SecurityMiddleware``) and answers:

- **413** when ``Content-Length`` is above the limit of the page posted to: the page's entry in
  ``UPLOAD_REQUEST_MAX_BYTES_BY_URL`` (by URL name, e.g. ``reports:verify``), else
  ``UPLOAD_REQUEST_MAX_BYTES``; each is the largest file the page takes plus a margin for the form's
  other fields;
- **411** for a body sent without a length (``Transfer-Encoding: chunked``), which Django would
  otherwise drop silently;
- **400** for a ``Content-Length`` that is not a number.

Django never reads past ``Content-Length`` (its ``LimitedStream``), so a checked length bounds the
body. Other bodies (forms without files, webhooks) are bounded by ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

A body that fits is then parsed here, at once (for the views whose CSRF check would parse it
anyway: a CSRF-exempt view, such as the Stripe webhook, may read the raw body instead): a file larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE``
is spooled by Django to a temporary file (``FILE_UPLOAD_TEMP_DIR``), and when that disk is full the
write fails inside the parser. Parsed later (by the CSRF check) that is an ``OSError`` and a 500;
here it is a **400** saying the file could not be stored, and the temporary files are closed (so
deleted) on the spot.

It also sets ``kernel.malware.current_request`` for the request, so the scanner's log lines can
name the uploader by user id.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from kernel.malware import current_request
from kernel.storage import FileNotStored

MEGABYTE = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_limit(path_info: str) -> int:
    """The largest multipart body, in bytes, that the page at ``path_info`` accepts."""
    try:
        view_name = resolve(path_info).view_name
    except Resolver404:
        return int(settings.UPLOAD_REQUEST_MAX_BYTES)
    return int(settings.UPLOAD_REQUEST_MAX_BYTES_BY_URL.get(view_name, settings.UPLOAD_REQUEST_MAX_BYTES))


def _page(status: int, title: str, message: str) -> HttpResponse:
    """A short page of its own: the request stops here, before the site's templates and middleware."""
    body = format_html(
        '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{}</title></head>'
        "<body><h1>{}</h1><p>{}</p></body></html>",
        translation.get_language(),
        title,
        title,
        message,
    )
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    # The page has no script, style or image: allow none (the CSP middleware does not see it).
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response["Cache-Control"] = "no-store"
    return response


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The response refusing ``request`` by its size or its missing length, or ``None`` to let it in."""
    meta = request.META
    declared = str(meta.get("CONTENT_LENGTH") or "").strip()
    chunked = bool(meta.get("HTTP_TRANSFER_ENCODING"))
    multipart = str(meta.get("CONTENT_TYPE") or "").lower().startswith("multipart/form-data")
    if not declared:
        if request.method in BODY_METHODS and (chunked or multipart):
            return _page(
                411,
                _("Length required"),
                _("This upload did not say how large it is, so it was not accepted. Nothing was saved."),
            )
        return None
    if not multipart:
        return None
    try:
        length = int(declared)
    except ValueError:
        length = -1
    if length < 0:
        return _page(400, _("Bad request"), _("This upload's length is not a number. Nothing was saved."))
    limit = request_limit(request.path_info)
    if length <= limit:
        return None
    return _page(
        413,
        _("Upload too large"),
        _(
            "This upload is %(size)s MB; this page accepts at most %(limit)s MB. Nothing was saved: "
            "go back and choose a smaller file."
        )
        % {"size": _megabytes(length), "limit": _megabytes(limit)},
    )


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.0f}" if size >= 10 * MEGABYTE else f"{size / MEGABYTE:.1f}"


def _parse_upload(request: HttpRequest) -> HttpResponse | None:
    """Parse a multipart body now; a 400 page if its files could not be spooled to disk, else ``None``."""
    if request.method not in BODY_METHODS or not str(request.META.get("CONTENT_TYPE", "")).lower().startswith(
        "multipart/form-data"
    ):
        return None
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return None
    if getattr(view, "csrf_exempt", False):
        return None  # the CSRF check would not parse it either: such a view may read the raw body (a webhook)
    try:
        request.POST  # noqa: B018 -- reading it parses the body and the files
    except OSError as exc:
        if isinstance(exc, UnreadablePostError):
            raise  # the client went away: Django's own handling (and its log line) applies
        for handler in request.upload_handlers:
            spooled = getattr(handler, "file", None)
            if spooled is not None:
                spooled.close()  # a NamedTemporaryFile: closing deletes the partial file
        with translation.override(translation.get_language_from_request(request)):
            return _page(400, _("Upload not stored"), str(FileNotStored(exc).message))
    return None


class UploadLimitMiddleware:
    """Refuses an over-large or length-less upload before it is read (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if "HTTP_TRANSFER_ENCODING" in meta or str(meta.get("CONTENT_TYPE", "")).lower().startswith("multipart/"):
            # LocaleMiddleware has not run yet: a refusal is in the language the browser asks for.
            with translation.override(translation.get_language_from_request(request)):
                refused = refusal(request)
            if refused is not None:
                return refused
            unparsed = _parse_upload(request)
            if unparsed is not None:
                return unparsed
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)

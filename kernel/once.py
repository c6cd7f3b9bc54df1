"""One-time keys: a form that creates something or moves money does it once, however often it is sent.

Each rendering of such a form carries a fresh random key in a hidden field (``OneTimeKeyField``, or
``OnceForm`` as a base). The view does the form's work inside ``submission(...)``, in the same
transaction: the key is inserted there, so it commits with the work or not at all. A second POST of
the same form — a proxy's or browser's retry, a double click, a second tab, the "send again" of the
page that could not confirm a save — finds the key already claimed and gets ``AlreadySubmitted``
with the first submission's result, which the view shows instead of doing the work again:

    try:
        with submission(key=form.cleaned_data[ONCE_FIELD], form="casework.intake", user=request.user) as sent:
            case = services.intake_register(...)
            sent.result_url = reverse("casework:case-detail", kwargs={"number": case.number})
    except AlreadySubmitted as done:
        return already_submitted_redirect(request, done, fallback=...)

On PostgreSQL two submissions racing each other meet at the key's unique index: the second waits
until the first commits (then it is a repeat) or rolls back (then it goes ahead). A key is bound to
the user who first sent it; another user's copy of the key is refused. Keys are kept
``SUBMISSION_KEY_DAYS``; after that a stale copy of the form is refused as expired, not done twice.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from kernel.models import SubmissionKey

ONCE_FIELD = "once"
KEY_BYTES = 24  # 32 characters of URL-safe base64


def new_key() -> str:
    """A random key that starts with the time it was made (hex seconds), so an old form can be told apart."""
    return f"{int(time.time()):x}-{secrets.token_urlsafe(KEY_BYTES)}"


def key_age_seconds(key: str) -> float | None:
    """How old ``key`` is, or ``None`` if it is not one of ours."""
    stamp, _sep, rest = key.partition("-")
    if len(rest) < KEY_BYTES or not stamp:
        return None
    try:
        return time.time() - int(stamp, 16)
    except ValueError:
        return None


class OneTimeKeyField(forms.CharField):
    """A hidden field holding a fresh key each time an unbound form is rendered."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("initial", new_key)
        kwargs.setdefault("min_length", 16)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("This form was not sent whole. Reload the page and send it again."),
                "min_length": _("This form was not sent whole. Reload the page and send it again."),
                "max_length": _("This form was not sent whole. Reload the page and send it again."),
            },
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        key = str(super().clean(value))
        age = key_age_seconds(key)
        if age is None:
            raise ValidationError(self.error_messages["required"], code="invalid")
        if age > settings.SUBMISSION_KEY_DAYS * 86400:
            raise ValidationError(
                _("This form was opened too long ago. Reload the page and send it again."), code="expired"
            )
        return key


class OnceForm(forms.Form):
    """A form that carries a one-time key (field ``once``)."""

    once = OneTimeKeyField()


class AlreadySubmitted(Exception):  # not an error: the work was done, once
    """The form's key was claimed by an earlier submission; ``result_url`` is where its result is."""

    def __init__(self, result_url: str) -> None:
        super().__init__("already submitted")
        self.result_url = result_url


@dataclass
class Submission:
    """What the view tells ``submission`` about the work it did: where its result can be seen."""

    result_url: str = ""


class ForeignKey(ValidationError):
    """The key was first sent by someone else (a copied form): refused, nothing done."""


def _claim(*, key: str, form: str, user_id: int | None) -> SubmissionKey:
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a refused insert
            return SubmissionKey.objects.create(key=key, form=form, user_id=user_id)
    except IntegrityError:
        first = SubmissionKey.objects.filter(key=key).first()
        if first is None:  # the first holder rolled back after our insert failed: try once more
            with transaction.atomic():
                return SubmissionKey.objects.create(key=key, form=form, user_id=user_id)
        if first.user_id != user_id or first.form != form:
            raise ForeignKey(_("This form cannot be sent again. Reload the page and start over.")) from None
        raise AlreadySubmitted(first.result_url) from None


@contextmanager
def submission(*, key: str, form: str, user: Any = None) -> Iterator[Submission]:
    """Do a form's work once for ``key``: the block runs inside one transaction with the key's claim.

    ``form`` names the form (``"app.form-name"``); ``user`` is the signed-in user, or ``None`` on
    public forms (the key alone then identifies the submission). Raises ``AlreadySubmitted`` before
    the block runs if the key was claimed already, ``ForeignKey`` (a ``ValidationError``) if another
    user claimed it. If the block raises, the claim is rolled back with the work.

    Side effects: a ``SubmissionKey`` row, with the block's ``result_url``.
    """
    user_id = getattr(user, "pk", None)
    with transaction.atomic():
        claim = _claim(key=key, form=form, user_id=user_id)
        sent = Submission()
        yield sent
        if sent.result_url:
            SubmissionKey.objects.filter(pk=claim.pk).update(result_url=sent.result_url[:500])


def previous_submission(*, key: str, form: str, user: Any = None) -> AlreadySubmitted | None:
    """The earlier submission of ``key`` by this user and form, if one committed; else ``None``.

    For views that do something before the work that a repeat should not do again (intake's
    duplicate check would otherwise show the person just registered as a possible duplicate).
    ``submission`` remains the guarantee: this is only the early, friendlier answer.
    """
    user_id = getattr(user, "pk", None)
    claims = SubmissionKey.objects.filter(key=key, form=form)
    claims = claims.filter(user_id=user_id) if user_id is not None else claims.filter(user__isnull=True)
    first = claims.first()
    return AlreadySubmitted(first.result_url) if first is not None else None


def already_submitted_redirect(request: HttpRequest, done: AlreadySubmitted, *, fallback: str) -> HttpResponseRedirect:
    """Show a repeat submission the first one's result, saying that nothing was done twice."""
    messages.info(request, _("This form had already been sent, so it was not done again. Here is the result."))
    url = done.result_url
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        url = fallback
    return HttpResponseRedirect(url)


def submission_keys_expire() -> int:
    """Delete keys older than ``SUBMISSION_KEY_DAYS``; return how many."""
    cutoff = timezone.now() - timedelta(days=settings.SUBMISSION_KEY_DAYS)
    deleted, _ = SubmissionKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted

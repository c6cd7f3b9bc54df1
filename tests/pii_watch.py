"""Watch, for the whole test run, every place personal data must never spread to.

Captured from the first test to the last:

* every log record (message and arguments), at every level;
* every URL the app generates (``reverse`` and ``{% url %}``, through the resolver) and every
  ``Location`` a response redirects to;
* every e-mail sent (subject and body, HTML included);
* every Celery task's arguments as it runs (eager in most tests) and every message published to the
  broker (the integration tests' real worker).

Watched: every detainee's names and A-numbers, every family contact's name and phone and every
person-obligor, as they are saved (a ``post_save`` receiver reads the decrypted values). The test
``tests/security/test_no_pii_spread.py`` runs last and asserts that nothing captured contains one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.signals import before_task_publish, task_prerun
from django.core.mail.backends.locmem import EmailBackend
from django.db.models.signals import post_save
from django.urls.resolvers import URLResolver

from kernel.logs import RedactCeleryTaskErrors, RedactingFormatter

LAST_TEST = "tests/security/test_no_pii_spread.py"


@dataclass
class Watch:
    # What was captured: (channel, text) → the first test it was seen in. Kept once each: the same
    # URL is generated thousands of times.
    seen: dict[tuple[str, str], str] = field(default_factory=dict)
    # The personal values seen being saved.
    names: set[str] = field(default_factory=set)
    digits: set[str] = field(default_factory=set)
    current_test: str = ""

    @property
    def captured(self) -> list[tuple[str, str, str]]:
        return [(channel, text, where) for (channel, text), where in self.seen.items()]

    def add(self, channel: str, text: object) -> None:
        self.seen.setdefault((channel, str(text)), self.current_test)

    def remember_name(self, value: str | None) -> None:
        value = (value or "").strip()
        # Short given names ("Ana", "Luz") also occur in ordinary words and staff names; a full name
        # or a family name of 5+ letters is specific enough to mean this person.
        if len(value) >= 5:
            self.names.add(value)

    def remember_digits(self, value: str | None) -> None:
        digits = re.sub(r"\D", "", value or "")
        if len(digits) >= 7:
            self.digits.add(digits)

    def findings(self) -> list[tuple[str, str, str, str]]:
        """(channel, what was found, in which test, an excerpt) for each leak.

        Names are found through their first five (case-folded) letters, so each text is read once
        however many names there are; a number is found as a whole run of digits (separators
        removed), never inside a longer number.
        """
        by_start: dict[str, list[str]] = {}
        for name in self.names:
            folded = name.casefold()
            by_start.setdefault(folded[:5], []).append(folded)
        found = []
        for channel, text, where in self.captured:
            folded = text.casefold()
            for at in range(len(folded) - 4):
                for name in by_start.get(folded[at : at + 5], ()):
                    if folded.startswith(name, at):
                        found.append((channel, name, where, _excerpt(text, at)))
            squeezed = re.sub(r"[\s().\-+]", "", text)
            for run in re.finditer(r"\d{7,}", squeezed):
                if run.group() in self.digits:
                    found.append((channel, run.group(), where, squeezed[max(0, run.start() - 40) : run.end() + 40]))
        return found


def _excerpt(text: str, at: int) -> str:
    return text[max(0, at - 40) : at + 60]


WATCH = Watch()


class _LogCapture(logging.Handler):
    """Sees each record as the app's console handler writes it (its filter and formatter, settings.LOGGING)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.addFilter(RedactCeleryTaskErrors())
        self.setFormatter(RedactingFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            WATCH.add("log", record.getMessage())
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is kept raw
            WATCH.add("log", f"{record.msg!r} {record.args!r}")
        if record.exc_info and record.exc_info[1] is not None:
            assert self.formatter is not None
            WATCH.add("log", self.formatter.formatException(record.exc_info))


_original_send_messages = EmailBackend.send_messages


def _watched_send_messages(self: EmailBackend, messages: Any) -> int:
    """Django's test set-up swaps in the locmem backend: every message it keeps is shown to the watch."""
    for message in messages:
        WATCH.add("email", message.subject)
        WATCH.add("email", message.body)
        for alternative in getattr(message, "alternatives", []):
            WATCH.add("email", alternative[0])
    return _original_send_messages(self, messages)


class RecordRedirectsMiddleware:
    """Test-only middleware: every redirect's ``Location`` is shown to the watch."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if response.has_header("Location"):
            WATCH.add("redirect", response["Location"])
        return response


_original_reverse = URLResolver._reverse_with_prefix


def _watched_reverse(self: URLResolver, lookup_view: Any, _prefix: str, *args: Any, **kwargs: Any) -> str:
    url = _original_reverse(self, lookup_view, _prefix, *args, **kwargs)
    WATCH.add("url", url)
    return url


def _on_save(sender: type, instance: Any, **kwargs: Any) -> None:
    label = sender._meta.label_lower
    # Migration tests save historical models, which may lack some of these fields.
    value = lambda name: str(getattr(instance, name, "") or "")  # noqa: E731
    if label == "casework.detainee":
        WATCH.remember_name(f"{value('given_names')} {value('family_names')}")
        WATCH.remember_name(value("family_names"))
        for other in value("other_names").split(","):
            WATCH.remember_name(other)
        WATCH.remember_digits(value("a_number"))
        for other in value("other_a_numbers").split(","):
            WATCH.remember_digits(other)
    elif label == "casework.familycontact":
        WATCH.remember_name(value("name"))
        WATCH.remember_digits(value("phone"))
    elif label == "funds.bond" and value("obligor_kind") == "person":
        WATCH.remember_name(value("obligor_name"))
        WATCH.remember_digits(value("obligor_phone"))


def _on_task(sender: Any = None, args: Any = None, kwargs: Any = None, **extra: Any) -> None:
    WATCH.add("task", f"{getattr(sender, 'name', sender)} {args!r} {kwargs!r}")


def _on_publish(sender: Any = None, body: Any = None, headers: Any = None, **extra: Any) -> None:
    WATCH.add("broker", f"{sender} {body!r} {headers!r}")


_HANDLER = _LogCapture(level=logging.DEBUG)


def pytest_configure(config: pytest.Config) -> None:
    URLResolver._reverse_with_prefix = _watched_reverse  # type: ignore[method-assign]
    EmailBackend.send_messages = _watched_send_messages  # type: ignore[method-assign]
    post_save.connect(_on_save, dispatch_uid="pii_watch_save", weak=False)
    task_prerun.connect(_on_task, weak=False)
    before_task_publish.connect(_on_publish, weak=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The check runs after everything else."""
    items.sort(key=lambda item: item.nodeid.startswith(LAST_TEST))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    WATCH.current_test = item.nodeid
    # Django's logging configuration replaces the root logger's handlers: attach (again) here.
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)

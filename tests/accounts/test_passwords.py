"""The password rules (accounts/passwords.py): length, no composition rule, common and context words, breaches.

The breached-password check is exercised with pwned-passwords-django's real client against a real
HTTP server on 127.0.0.1 that answers like the Pwned Passwords range API (k-anonymity: the client
sends the first 5 hex digits of the SHA-1, the server lists the suffixes it knows with their counts).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.passwords import BreachedPasswordValidator, ContextWordsValidator
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

BREACHED = "Tr0ub4dor&3-horsefly"  # the fake server says it was seen in breaches
UNBREACHED = "quiet lantern over the marsh"


def _messages(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


def _codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


# --- length and composition ------------------------------------------------------------------


def test_an_all_digit_password_is_accepted_there_is_no_composition_rule():
    assert _messages("8302948201735519") == []


def test_a_common_all_digit_password_is_still_refused():
    assert _codes("1234567890") == {"password_too_common"}


def test_a_password_under_10_characters_is_refused():
    assert "password_too_short" in _codes("Kq7#vLm2x")


@pytest.mark.parametrize("password", ["x" * 64, "a slow river " * 8, "Ω" * 200])
def test_long_passwords_of_64_characters_and_more_are_accepted(password):
    assert _messages(password) == []


# --- common passwords and their variants (6.2.4) ---------------------------------------------


@pytest.mark.parametrize("password", ["Sunshine2024!", "!!dragon12345", "Iloveyou 2026", "qwertyuiop", "1q2w3e4r5t"])
def test_a_common_password_with_digits_or_punctuation_around_it_is_refused(password):
    assert _codes(password) == {"password_too_common"}


def test_a_short_stem_with_digits_is_not_taken_for_a_common_password():
    # "x" is on Django's list, but a stem under 4 characters says nothing about the rest.
    assert _messages("x8302948201") == []


# --- context words (6.1.2, 6.2.11) -----------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "amparo-2026-rocks",
        "Mi AMPARO es fuerte 7",
        "passwordpassword",
        "MiContraseña-segura-9",
        "contrasena-secreta-9",
        "the supervisor rules 1",
        "Attorney#2026!xyz",
        "intake desk 4 ever",
    ],
)
def test_a_password_with_a_context_word_is_refused(password):
    assert "password_context_word" in _codes(password)


def test_the_fund_name_and_the_installations_words_are_refused(settings):
    settings.FUND_LEGAL_NAME = "Rio Verde Bail Collective, Inc."
    settings.PASSWORD_CONTEXT_WORDS = ["Tucson"]

    assert "password_context_word" in _codes("collective-strength-9")
    assert "password_context_word" in _codes("I love TUCSON 2026")
    # Words under 4 letters of the name are not refused inside other words.
    assert _messages("bright riot of colours") == []


@pytest.mark.django_db
def test_part_of_the_persons_e_mail_address_is_refused():
    user = UserFactory(email="zorvath.quillan@example.org", mfa=False)

    assert "password_context_word" in _codes("Quillan-1987-forever", user)
    assert "password_context_word" in _codes("zorvathquillan!!22", user)
    assert _messages("Quillan-1987-forever") == []  # another person may use it


def test_a_password_without_context_words_passes_the_context_check():
    ContextWordsValidator().validate("correct horse battery staple")


def test_the_rules_are_explained_in_the_help_texts(settings):
    texts = " ".join(password_validators_help_texts())
    assert "at least 10 characters" in texts
    assert "the name of Amparo or of the fund, a staff role" in texts
    assert "entirely numeric" not in texts


# --- breached passwords (6.2.12) -------------------------------------------------------------


def _sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


@dataclass
class FakeRangeAPI:
    """What the fake Pwned Passwords server knows and what it was asked."""

    url: str
    breached: dict[str, int] = field(default_factory=dict)  # full SHA-1 → count
    paths: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def range_api() -> Iterator[FakeRangeAPI]:
    api = FakeRangeAPI(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            api.paths.append(self.path)
            prefix = self.path.rsplit("/", 1)[-1].upper()
            if api.status != 200:
                self.send_error(api.status)
                return
            lines = [f"{h[5:]}:{n}" for h, n in api.breached.items() if h.startswith(prefix)]
            lines += [f"{'0' * 35}:0", f"{'F' * 35}:0"]  # padding, as with Add-Padding
            body = "\r\n".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}/range/"
    api.breached[_sha1(BREACHED)] = 52_611
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_breached_password_is_refused_with_a_clear_message(settings, range_api):
    settings.PWNED_PASSWORDS_API_URL = range_api.url

    with pytest.raises(ValidationError) as refused:
        validate_password(BREACHED)

    assert refused.value.error_list[0].code == "password_breached"
    assert "This password has appeared in a data breach" in refused.value.messages[0]
    # Only the first five hex digits of the hash left the server.
    assert range_api.paths == [f"/range/{_sha1(BREACHED)[:5]}"]


def test_a_password_not_in_any_breach_passes(settings, range_api):
    settings.PWNED_PASSWORDS_API_URL = range_api.url

    validate_password(UNBREACHED)

    assert range_api.paths == [f"/range/{_sha1(UNBREACHED)[:5]}"]


def test_with_the_check_off_nothing_is_asked(settings, range_api):
    settings.PWNED_PASSWORDS_API_URL = ""

    validate_password(BREACHED)

    assert range_api.paths == []


@pytest.mark.parametrize("failure", ["unreachable", "server error"])
def test_when_the_api_fails_the_check_falls_back_to_the_common_list_and_logs(settings, range_api, caplog, failure):
    if failure == "unreachable":
        settings.PWNED_PASSWORDS_API_URL = f"http://127.0.0.1:{_closed_port()}/range/"
    else:
        settings.PWNED_PASSWORDS_API_URL = range_api.url
        range_api.status = 503
    caplog.set_level(logging.WARNING, logger="amparo.security")
    validator = BreachedPasswordValidator()

    validator.validate(BREACHED)  # fails open: not on the common list
    with pytest.raises(ValidationError) as refused:
        validator.validate("Sunshine2024!")

    assert refused.value.error_list[0].code == "password_too_common"
    lines = [r for r in caplog.records if r.name == "amparo.security"]
    assert len(lines) == 2
    assert "breached-password check unavailable" in lines[0].getMessage()
    assert lines[0].levelno == logging.WARNING
    for secret in (BREACHED, _sha1(BREACHED), _sha1(BREACHED)[:5], "Sunshine2024!", _sha1("Sunshine2024!")[:5]):
        assert secret not in caplog.text


@pytest.mark.django_db
def test_changing_to_a_breached_password_is_refused_on_the_page(settings, range_api):
    settings.PWNED_PASSWORDS_API_URL = range_api.url
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": BREACHED, "password2": BREACHED}
    )

    assert response.status_code == 200
    assert "This password has appeared in a data breach" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- the setting -----------------------------------------------------------------------------


def test_the_tests_run_with_the_check_off():
    assert django_settings.PWNED_PASSWORDS_API_URL == ""


def _settings_value(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(
        {
            "SECRET_KEY": "k3y-" + "x7Qp9zR2" * 8,
            "SITE_URL": "https://amparo.example.org",
            "FIELD_ENCRYPTION_KEYS": "c2VydmVyLWZpZWxkLWtleS0wMDAwMDAwMDAwMDAwMDA=",
            "BLIND_INDEX_KEY": "server-blind-index-key-0123456789abcdef",
            **env,
        }
    )
    code = "from amparo import settings; print(repr(settings.PWNED_PASSWORDS_API_URL))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=clean, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "0"}, "'https://api.pwnedpasswords.com/range/'"),
        ({"DEBUG": "1"}, "''"),
        (
            {"DEBUG": "0", "PWNED_PASSWORDS_API_URL": "https://hibp.internal.example/range/"},
            "'https://hibp.internal.example/range/'",
        ),
        ({"DEBUG": "0", "PWNED_PASSWORDS_API_URL": ""}, "''"),
    ],
)
def test_the_api_url_is_on_in_production_off_in_development_and_can_be_a_mirror(env, expected):
    result = _settings_value(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_malformed_api_url_stops_the_start():
    result = _settings_value({"DEBUG": "0", "PWNED_PASSWORDS_API_URL": "hibp.internal.example/range"})
    assert result.returncode != 0
    assert "PWNED_PASSWORDS_API_URL must be an http(s) URL" in result.stderr

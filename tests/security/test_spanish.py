"""Spanish is offered to every user: the pages switch language, and the catalogue is complete.

The catalogue tests read ``locale/es/LC_MESSAGES/django.po``; the page tests need it compiled
(``make test`` runs compilemessages first). A string added to the code without a Spanish translation fails
``test_catalogue_covers_every_string_in_the_code``: run ``manage.py makemessages -l es --ignore=.venv
--ignore=var --ignore=tests --no-location``, translate the new entries and remove any ``#, fuzzy`` flags.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.roles import Role
from tests.forms import once

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "es" / "LC_MESSAGES" / "django.po"
MAKEMESSAGES_IGNORE = (".venv", "var", "tests")

# Strings the pages below rely on; each must stay in the catalogue.
KEY_STRINGS = {
    "Sign out": "Cerrar sesión",
    "My day": "Mi día",
    "Cases": "Casos",
    "Calendar": "Calendario",
    "Security": "Seguridad",
    "New intake": "Nueva admisión",
    "Given names": "Nombres",
    "A-number": "Número A",
    "Amparo — case management for legal defence funds.": "Amparo — gestión de casos para fondos de defensa legal.",
}


# --- Pages ----------------------------------------------------------------------------------


def _spanish(client: Client) -> Client:
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    return client


def test_sign_in_page_follows_accept_language():
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get("/accounts/login/").content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar sesión" in page
    assert page.count("¿Ha olvidado su contraseña?") == 1  # allauth's words, under the password field
    assert "Las cuentas del personal se crean por invitación de un administrador." in page
    assert "Amparo — gestión de casos para fondos de defensa legal." in page
    assert "Sign In" not in page

    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/").content.decode()
    assert "Sign In" in english
    assert "Iniciar sesión" not in english


def test_attorney_dashboard_in_spanish_after_switching(client_for):
    client = _spanish(client_for(Role.ATTORNEY))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Mi día</h1>" in page
    for label in ("Casos", "Calendario", "Seguridad", "Cerrar sesión", "Audiencias en los próximos 14 días"):
        assert label in page, label
    assert "My day" not in page
    # The language form now offers English back.
    assert 'value="en"' in page


def test_intake_form_labels_in_spanish(client_for):
    client = _spanish(client_for(Role.INTAKE))
    page = client.get("/intake/").content.decode()
    assert re.search(r'<label for="id_given_names"[^>]*>Nombres:?</label>', page)
    assert re.search(r'<label for="id_a_number"[^>]*>Número A:?</label>', page)
    assert "Apellidos" in page
    assert "Guardar y enviar a clasificación" in page


@pytest.mark.parametrize(
    ("a_number", "message"),
    [
        ("12345", "Un número A tiene de 7 a 9 dígitos, pero se escribieron 5 dígitos."),
        ("1", "Un número A tiene de 7 a 9 dígitos, pero se escribió 1 dígito."),
        ("B-012-345-678", "Escriba el número A con 7 a 9 dígitos, con o sin la A inicial"),
        ("A-000-000-000", "A-000-000-000 no es un número A real."),
    ],
)
def test_invalid_a_number_error_in_spanish(client_for, a_number, message):
    client = _spanish(client_for(Role.INTAKE))
    response = client.post("/intake/", once({"given_names": "Ana", "family_names": "López", "a_number": a_number}))
    assert response.status_code == 422  # the form again, with the error
    assert message in response.content.decode()


# --- Catalogue ------------------------------------------------------------------------------

_ENTRY_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$')


def _unquote(text: str) -> str:
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def parse_po(text: str) -> list[dict]:
    """Entries of a .po file as dicts: ``msgid``, ``msgid_plural``, ``msgstr``/``msgstr[n]``, ``flags``."""
    entries: list[dict] = []
    entry: dict = {}
    key = None
    for line in [*text.splitlines(), ""]:
        line = line.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := _ENTRY_LINE.match(line):
            key = match[1]
            entry[key] = _unquote(match[2])
        elif line.startswith('"') and line.endswith('"') and key:
            entry[key] += _unquote(line[1:-1])
        else:
            raise AssertionError(f"cannot parse .po line: {line!r}")
    return [e for e in entries if not e.get("obsolete")]


def incomplete_entries(entries: list[dict]) -> list[str]:
    """msgids (the header aside) that are fuzzy or have an empty translation."""
    problems = []
    for entry in entries:
        if entry["msgid"] == "":
            continue
        translations = [value for key, value in entry.items() if key.startswith("msgstr")]
        if "fuzzy" in entry.get("flags", ()):
            problems.append(f"fuzzy: {entry['msgid']!r}")
        elif not translations or not all(translations):
            problems.append(f"untranslated: {entry['msgid']!r}")
    return problems


def test_catalogue_is_complete_and_compiles():
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    assert len(entries) > 500
    assert incomplete_entries(entries) == []

    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header.get("flags", ())
    assert "Language: es\n" in header["msgstr"]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header["msgstr"]
    for entry in entries:
        if "msgid_plural" in entry:
            assert {k for k in entry if k.startswith("msgstr")} == {"msgstr[0]", "msgstr[1]"}, entry["msgid"]

    translations = {e["msgid"]: e.get("msgstr") for e in entries}
    for msgid, msgstr in KEY_STRINGS.items():
        assert translations.get(msgid) == msgstr, msgid

    # Placeholders, plural forms and the header, as gettext checks them.
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(PO_PATH)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _copy_for_makemessages(target: Path) -> None:
    """The project as makemessages sees it (ignored directories left out), plus the settings module."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        if Path(directory) == BASE_DIR:
            return {n for n in names if n in MAKEMESSAGES_IGNORE or n.startswith(".") or n == "node_modules"}
        return {n for n in names if n.startswith(".") or n == "__pycache__" or n.endswith(".mo")}

    shutil.copytree(BASE_DIR, target, ignore=ignore)
    (target / "tests").mkdir()
    for name in ("__init__.py", "settings.py"):
        shutil.copy2(BASE_DIR / "tests" / name, target / "tests" / name)


def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """makemessages on a copy of the project adds no untranslated or fuzzy entry to the catalogue."""
    assert shutil.which("xgettext") and shutil.which("msgmerge"), "install gettext (scripts/system-packages.sh demo)"
    copy = tmp_path / "project"
    _copy_for_makemessages(copy)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(copy)}
    command = [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location", "--verbosity", "0"]
    command += [f"--ignore={name}" for name in MAKEMESSAGES_IGNORE]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr

    merged = parse_po((copy / PO_PATH.relative_to(BASE_DIR)).read_text(encoding="utf-8"))
    # makemessages drops entries it no longer finds, so this shows it read the code and templates.
    assert set(KEY_STRINGS) <= {entry["msgid"] for entry in merged}
    assert incomplete_entries(merged) == [], (
        "New or changed strings need a Spanish translation: run makemessages -l es (see this module's docstring)."
    )


def test_incomplete_entries_are_detected():
    """The checker itself: an empty msgstr, an empty plural form and a fuzzy entry are each reported."""
    text = (
        'msgid ""\nmsgstr "Language: es\\n"\n\n'
        'msgid "Done"\nmsgstr "Cumplido"\n\n'
        'msgid "New"\nmsgstr ""\n\n'
        'msgid "%(n)s day"\nmsgid_plural "%(n)s days"\nmsgstr[0] "%(n)s día"\nmsgstr[1] ""\n\n'
        '#, fuzzy, python-format\nmsgid "Hello %(name)s"\nmsgstr "Hola %(name)s"\n\n'
        '#~ msgid "Old"\n#~ msgstr ""\n'
    )
    assert incomplete_entries(parse_po(text)) == [
        "untranslated: 'New'",
        "untranslated: '%(n)s day'",
        "fuzzy: 'Hello %(name)s'",
    ]

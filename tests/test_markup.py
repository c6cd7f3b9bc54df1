"""Markup that assistive technology needs, checked on the templates themselves: every table header
cell says what its column is (an actions column too, for screen readers only), and every page's
``<h1>`` has text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from tests.factories import UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
EMPTY_HEADER = re.compile(r"<th(\s[^>]*)?>\s*</th>")


def test_no_table_header_cell_is_empty():
    empty = [
        f"{path.relative_to(TEMPLATES)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for text in [path.read_text()]
        for match in EMPTY_HEADER.finditer(text)
    ]
    assert empty == []


def test_the_header_check_finds_an_empty_cell():
    assert EMPTY_HEADER.search('<tr><th>Case</th><th class="num"> </th></tr>')
    assert not EMPTY_HEADER.search('<th><span class="visually-hidden">Action</span></th>')


@pytest.mark.django_db
def test_the_bulk_reassign_page_has_a_heading():
    client = Client()
    client.force_login(UserFactory(role=Role.SUPERVISOR))

    page = client.get(reverse("casework:bulk-reassign")).content.decode()

    heading = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL)
    assert heading and heading.group(1).strip() == "Reassign cases in bulk"

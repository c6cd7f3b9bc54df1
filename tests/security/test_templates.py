"""The CSP forbids inline code, so no template may contain any."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

TEMPLATE_ROOTS = [Path(settings.BASE_DIR) / "templates"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
DJANGO_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _templates():
    for root in TEMPLATE_ROOTS:
        yield from root.rglob("*.html")


def test_templates_have_no_inline_script_style_or_handlers():
    offenders = []
    for path in _templates():
        text = DJANGO_COMMENT.sub("", path.read_text())
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {pattern.pattern}")
    assert offenders == []


def test_templates_load_nothing_from_other_sites():
    offenders = [str(path) for path in _templates() if re.search(r"""(src|href)=["']https?://""", path.read_text())]
    assert offenders == []

"""The PDF kernel: one stylesheet base under both renderers, and a fetcher that reads only it."""

from __future__ import annotations

from pathlib import Path

import pytest

from funds.receipt_pdf import RECEIPT_STYLESHEET
from kernel.pdf import BASE_STYLESHEET, base_stylesheet_path, local_url_fetcher, static_file, static_roots
from reports.pdf.render import REPORT_STYLESHEET

FONT = "fonts/inter-latin-wght-normal.woff2"


@pytest.mark.parametrize("name", [REPORT_STYLESHEET, RECEIPT_STYLESHEET])
def test_every_pdf_stylesheet_starts_from_the_shared_base(name):
    css = static_file(name).read_text()

    first_rule = css.split("*/", 1)[1].strip().splitlines()[0]
    assert first_rule == f'@import url("{Path(BASE_STYLESHEET).name}");'
    assert static_file(name).parent == base_stylesheet_path().parent
    assert "@font-face" not in css  # the fonts are declared once, in the base


def test_the_base_declares_the_shipped_fonts():
    css = base_stylesheet_path().read_text()

    assert css.count("@font-face") == 2
    assert 'url("../fonts/inter-latin-wght-normal.woff2")' in css


def test_static_file_refuses_a_missing_name():
    with pytest.raises(FileNotFoundError):
        static_file("css/no-such-sheet.css")


def test_fetcher_reads_shipped_static_files():
    fetcher = local_url_fetcher(static_roots())

    assert fetcher.fetch(static_file(FONT).as_uri()).read(4) == b"wOF2"
    assert fetcher.fetch(base_stylesheet_path().as_uri()).read(2) == b"/*"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.invalid/style.css", "local files only"),
        ("https://fonts.example.invalid/inter.woff2", "local files only"),
        ("data:text/css,body{}", "local files only"),
        ("file:///etc/passwd", "static directory only"),
    ],
)
def test_fetcher_refuses_the_network_and_files_outside_static(url, message):
    fetcher = local_url_fetcher(static_roots())

    with pytest.raises(ValueError, match=message):
        fetcher.fetch(url)


def test_fetcher_refuses_a_path_that_climbs_out_of_static():
    fetcher = local_url_fetcher(static_roots())
    escape = static_roots()[0].as_uri() + "/../pyproject.toml"

    with pytest.raises(ValueError, match="static directory only"):
        fetcher.fetch(escape)

"""axe-core on every page each role reaches, at 1280 and 375 px, and no page wider than a phone.

Each role's pages are found from its home by following links (``tests/e2e/pages.py``), on a
small demo network (the demo's accounts, cases and money). axe-core comes from npm
(``package-lock.json``, installed by ``scripts/test.sh``) and is injected into each page; every
WCAG 2.0/2.1/2.2 A and AA rule and axe's best practices are run, and any violation fails with
the page, the rule and the elements. The Django admin is not swept (it is Django's own).

At 375 px a page may scroll sideways only inside a region made to scroll (``.table-wrap``):
the page itself must not be wider than the screen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from demo.accounts import DEMO_ACCOUNTS
from tests.e2e.pages import Found, sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ")), count: v.nodes.length,
  }));
}"""
PAGE_WIDER_THAN_SCREEN = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const wide = [...document.querySelectorAll("body *")].filter(el => {
    const box = el.getBoundingClientRect();
    return box.right > root.clientWidth + 1 && !el.closest(".table-wrap");
  }).slice(0, 3).map(el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
  return {width: root.scrollWidth, elements: wide};
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = os.environ.get("AXE_CORE_PATH") or str(Path(settings.BASE_DIR) / "node_modules/axe-core/axe.min.js")
    if not Path(path).is_file():
        pytest.fail("axe-core is not installed: `make test` installs it (npm ci, from package-lock.json).")
    return Path(path).read_text()


def _check(page, live_server, axe_source: str, path: str, problems: list[str]) -> list[str]:
    response = page.goto(live_server.url + path)
    if response is None or response.status >= 400:
        problems.append(f"{path}: answered {response.status if response else 'nothing'}")
        return []
    page.add_script_tag(content=axe_source)
    for violation in page.evaluate(RUN_AXE, AXE_TAGS):
        problems.append(
            f"{path} [{page.viewport_size['width']} px]: {violation['id']} ({violation['impact']}) {violation['help']}"
            f" — {violation['count']} element(s): {'; '.join(violation['nodes'])}"
        )
    if page.viewport_size["width"] < 400 and (wide := page.evaluate(PAGE_WIDER_THAN_SCREEN)):
        problems.append(
            f"{path} [375 px]: the page is {wide['width']} px wide; outside a scrolling region: {wide['elements']}"
        )
    return page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")


def _sweep(
    persona_context, live_server, axe_source: str, persona: str, start: str, locale: str, widths: tuple[int, ...]
) -> tuple[list[Found], list[str]]:
    problems: list[str] = []
    pages: list[Found] = []
    for width in widths:
        # bypass_csp: axe is injected as an inline script, which the site's policy rightly refuses.
        context = persona_context(persona, width=width, locale=locale, bypass_csp=True)
        page = context.new_page()
        try:
            if width == widths[0]:
                pages = sweep(start, lambda path, page=page: _check(page, live_server, axe_source, path, problems))
            else:
                for found in pages:
                    _check(page, live_server, axe_source, found.path, problems)
        finally:
            context.close()
    return pages, problems


# One demo account per role (the demo's second attorney sees the same pages as the first).
STAFF = list({role: email for email, _name, role in reversed(DEMO_ACCOUNTS)}.values())


# In Spanish, where labels run longer, the phone width is where pages break.
@pytest.mark.parametrize(("locale", "widths"), [("en-US", (1280, 375)), ("es-ES", (375,))])
def test_every_page_of_every_role_passes_axe_and_fits_a_phone(
    persona_context, live_server, axe_source, demo_network, locale, widths
):
    swept: dict[str, list[Found]] = {}
    problems: list[str] = []
    for persona, start in [*((email, "/") for email in STAFF), ("donor", "/donor/gifts/"), ("public", "/give/")]:
        pages, found_problems = _sweep(persona_context, live_server, axe_source, persona, start, locale, widths)
        swept[persona] = pages
        problems += [f"{persona}: {problem}" for problem in found_problems]

    # The sweep really went through the app: each role reached its main pages.
    reached = {persona: {found.pattern for found in pages} for persona, pages in swept.items()}
    expected = {
        "intake@demo.amparo.test": {"casework:intake()", "casework:case-detail(number)"},
        "attorney@demo.amparo.test": {"casework:dashboard()", "casework:case-detail(number)", "casework:calendar()"},
        "supervisor@demo.amparo.test": {"casework:triage()", "casework:workload()", "casework:case-list()"},
        "finance@demo.amparo.test": {"funds:disbursement-detail(pk)", "funds:bond-detail(pk)", "funds:donation-list()"},
        "auditor@demo.amparo.test": {"reports:funds()", "reports:ledger()", "reports:report-new()"},
        "admin@demo.amparo.test": {"accounts:staff-list()", "accounts:staff-detail(pk)", "accounts:access-log()"},
        "donor": {"funds:donor-gifts()"},
        "public": {"funds:donate()"},
    }
    missing = {persona: wanted - reached[persona] for persona, wanted in expected.items() if wanted - reached[persona]}
    assert missing == {}, reached
    assert problems == [], "\n".join(problems)

"""Journey 3 in Debian's Chromium, at a desk and on a phone: an administrator invites an attorney,
who sets a password from the e-mailed link, enrols an authenticator, saves the recovery codes and
reaches their home; the administrator deactivates them and their open page signs them out.

Each step must offer the way on (a "Sign in" after the password is set, a "Continue" after the
codes), the sign-in page offers "Forgot your password?" once, and the security page never offers a
"Deactivate" that would then be refused. Screenshots are kept in ``test-results/journeys/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from demo.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_accounts_save
from tests.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "test-results" / "journeys"
NEW_PASSWORD = "cobalt-harbour-lantern-58"


def _shot(page, width: int, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"invitation-{width}-{step}.png"), full_page=True)


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    assert page.get_by_role("link", name="Forgot your password?").count() == 1
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")


@pytest.mark.parametrize("width", [1280, 375])
def test_an_invited_attorney_joins_enrols_and_is_signed_out_when_deactivated(live_server, browser, width):
    demo_accounts_save()
    base = live_server.url
    admin = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    invitee = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    admin.set_default_timeout(15_000)
    invitee.set_default_timeout(15_000)
    errors: list[str] = []
    try:
        page = admin.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        _sign_in(page, base, "admin@demo.amparo.test", DEMO_PASSWORD)
        page.fill("input[name=code]", totp_code(DEMO_TOTP_SECRET))
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/")

        # The administrator invites Rosa as an attorney.
        page.goto(f"{base}/staff/invite/")
        page.fill("input[name=full_name]", "Rosa Delgado")
        page.fill("input[name=email]", "rosa.delgado@example.org")
        page.select_option("select[name=role]", "attorney")
        page.get_by_role("button", name=re.compile("invitation", re.I)).click()
        page.wait_for_url(re.compile(r"/staff/\d+/$"))
        assert "Invitation sent to rosa.delgado@example.org." in page.inner_text("main")
        staff_url = page.url
        _shot(page, width, "1-invited")

        (invitation,) = [m for m in mail.outbox if m.to == ["rosa.delgado@example.org"]]
        link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", invitation.body).group(1)

        # Rosa sets her password from the link, and is offered the way on: signing in.
        rosa = invitee.new_page()
        rosa.on("console", lambda m: m.type == "error" and errors.append(m.text))
        rosa.goto(base + link)
        rosa.fill("input[name=password1]", NEW_PASSWORD)
        rosa.fill("input[name=password2]", NEW_PASSWORD)
        assert rosa.locator("h1").inner_text() == "Choose a password"
        rosa.get_by_role("button", name="Save password").click()
        rosa.wait_for_url("**/accounts/password/reset/key/done/")
        assert rosa.locator("h1").inner_text() == "Password saved"
        _shot(rosa, width, "2-password-saved")
        rosa.get_by_role("link", name="Sign in", exact=True).click()

        # Her first sign-in asks her to set up an authenticator.
        rosa.wait_for_url("**/accounts/login/")
        _sign_in(rosa, base, "rosa.delgado@example.org", NEW_PASSWORD)
        rosa.wait_for_url("**/accounts/2fa/totp/activate/**")
        secret = rosa.locator("input[name=secret], #authenticator_secret").first.input_value()
        rosa.fill("input[name=code]", totp_code(secret))
        _shot(rosa, width, "3-enrol")
        rosa.locator("main form button[type=submit]").last.click()

        # Enrolled, she confirms her password once more to see her recovery codes, then goes on.
        rosa.wait_for_url(re.compile(r"/accounts/(reauthenticate|2fa/recovery-codes)/"))
        if "/reauthenticate/" in rosa.url:
            rosa.fill("input[name=password]", NEW_PASSWORD)
            rosa.locator("main form button[type=submit]").click()
        rosa.wait_for_url("**/accounts/2fa/recovery-codes/")
        assert len(rosa.locator("#recovery_codes").input_value().split()) == settings.MFA_RECOVERY_CODE_COUNT
        _shot(rosa, width, "4-recovery-codes")
        rosa.get_by_role("link", name="Continue", exact=True).click()
        rosa.wait_for_url(f"{base}/dashboard/")
        assert rosa.locator("h1").inner_text() == "My day"

        # Her security page says how to replace the authenticator, and offers no "Deactivate".
        rosa.goto(f"{base}/accounts/2fa/")
        assert rosa.get_by_role("link", name="Deactivate").count() == 0
        assert rosa.get_by_role("button", name="Deactivate").count() == 0
        assert "Ask an administrator to reset your authenticator" in rosa.inner_text("main")
        _shot(rosa, width, "5-security")

        # The administrator deactivates her: her next request is a sign-in page.
        page.goto(staff_url)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name=re.compile("^Deactivate")).click()
        page.wait_for_load_state()
        assert "Deactivated" in page.inner_text("main") or "deactivated" in page.inner_text("main")
        rosa.goto(f"{base}/dashboard/")
        assert "/accounts/login/" in rosa.url
        _shot(rosa, width, "6-signed-out")
        assert errors == []
    finally:
        admin.close()
        invitee.close()

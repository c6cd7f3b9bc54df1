"""Giving works in the demo as `make demo` runs it: the web server, the Celery worker and the
Stripe sandbox from Procfile.dev, on the demo's SQLite database and file-backed broker.

A donor fills in /give/, is sent to the sandbox's payment page, is declined with one test card and
pays with another; the sandbox's signed webhook reaches the web server, the worker processes the
event and e-mails the receipt (to the console, as in the demo). Ports are chosen free so that a
demo running on this machine is left alone; everything else is the demo's own default.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess

import pytest
import requests

from tests.integration.test_demo_worker_leaves_tree_clean import (
    VENV_BIN,
    DemoProcesses,
    _copy_checkout,
    _demo_env,
    _procfile_commands,
)

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _donations(database) -> list[tuple]:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute(
                "SELECT status, amount_cents, receipt_number, receipt_sent_at IS NOT NULL FROM funds_donation"
            ).fetchall()
    except sqlite3.Error:
        return []


def test_a_donor_gives_through_the_sandbox_in_the_demo(tmp_path):
    checkout, logs = tmp_path / "checkout", tmp_path / "logs"
    checkout.mkdir()
    logs.mkdir()
    _copy_checkout(checkout)
    subprocess.run(["make", "-s", "var-dirs"], cwd=checkout, env=_demo_env(), check=True)
    web_port, sandbox_port = _free_port(), _free_port()
    site = f"http://127.0.0.1:{web_port}"
    commands = _procfile_commands(checkout)
    demo = DemoProcesses(checkout=checkout, logs=logs, env={"SITE_URL": site, "STRIPE_SANDBOX_PORT": str(sandbox_port)})
    try:
        migrate = demo.start("migrate", f"exec env DEBUG=1 {VENV_BIN}/python manage.py migrate -v0")
        demo.wait_for(lambda: migrate.poll() is not None, what="migrate", timeout=120)
        assert migrate.returncode == 0, demo.output("migrate")
        demo.start("web", commands["web"].replace("127.0.0.1:8000", f"127.0.0.1:{web_port}") + " --noreload")
        demo.start("worker", commands["worker"])
        demo.start("stripe", commands["stripe"])
        demo.wait_for(lambda: "Stripe sandbox on" in demo.output("stripe"), what="the sandbox")
        demo.wait_for(lambda: "celery@" in demo.output("worker") and " ready." in demo.output("worker"), what="worker")
        demo.wait_for(lambda: _answers(f"{site}/give/"), what="the web server")

        donor = requests.Session()
        form = donor.get(f"{site}/give/").text
        sent = donor.post(
            f"{site}/give/",
            data={
                "csrfmiddlewaretoken": donor.cookies["csrftoken"],
                "nonce": re.search(r'name="nonce" value="([^"]+)"', form)[1],
                "fund": re.search(r'name="fund" value="(\d+)"', form)[1],
                "amount_choice": "2500",
                "frequency": "once",
                "name": "Dana Donor",
                "email": "dana@example.org",
            },
            headers={"Referer": f"{site}/give/"},
            allow_redirects=False,
        )
        assert sent.status_code == 303, sent.text[:2000]
        page = sent.headers["Location"]
        assert page.startswith(f"http://127.0.0.1:{sandbox_port}/c/pay/cs_test_")
        card = {"expiry": "12 / 40", "cvc": "123"}
        assert "Your card was declined." in requests.post(page, data={**card, "card_number": "4000000000000002"}).text
        paid = requests.post(page, data={**card, "card_number": "4242424242424242"}, allow_redirects=False)
        assert paid.status_code == 303 and paid.headers["Location"].startswith(f"{site}/give/thanks/?session_id=")

        database = checkout / "db.sqlite3"
        demo.wait_for(lambda: _donations(database) and _donations(database)[0][3], what="the gift and its receipt")
        assert _donations(database) == [("paid", 2500, _donations(database)[0][2], 1)]
        demo.wait_for(lambda: "Subject: [Amparo] Your donation receipt" in demo.output("worker"), what="the e-mail")
        thanks = donor.get(paid.headers["Location"]).text
        assert "Your payment has been received." in thanks
        assert " 503 " not in demo.output("web") and " 500 " not in demo.output("web"), demo.output("web")[-3000:]
    finally:
        demo.stop_all()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False

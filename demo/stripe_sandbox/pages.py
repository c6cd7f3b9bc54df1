"""The sandbox's pages: Stripe's hosted Checkout page, and a page to act as Stripe would later.

``/c/pay/<session>`` is where Amparo's donation form sends the donor (the session's ``url``): the
gift and a card form. A test card from ``fake.TEST_CARDS`` pays or is declined as Stripe's would
be; paid, the donor is sent to the session's ``success_url`` while the webhooks go to Amparo; "Back"
is the ``cancel_url``. The page speaks the session's ``locale`` (English or Spanish).

``/`` lists what the sandbox holds, with buttons for what Stripe does by itself in real life
(the next month's payment of a monthly gift, a refund or dispute from the dashboard, a payout) and
the webhooks sent with their answers.

Plain HTML with no script, written with ``html.escape``: this runs in a process of its own with no
Django template engine set up.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from demo.stripe_sandbox.fake import FakeStripe

Answer = tuple[int, dict[str, str], bytes]

WORDS = {
    "en": {
        "title": "Pay Amparo (sandbox)",
        "sandbox": "Stripe sandbox: no real card is charged. Use a test card below.",
        "monthly": "per month",
        "email": "E-mail",
        "card": "Card number",
        "expiry": "Expiry (MM / YY)",
        "cvc": "CVC",
        "name": "Name on card",
        "pay": "Pay",
        "subscribe": "Subscribe",
        "back": "Back to Amparo (nothing is charged)",
        "cards": "Test cards",
        "succeeds": "succeeds",
        "declined": "is declined",
        "any": "Any future expiry date and any three digits for the CVC.",
        "expired": "This payment page has expired. Nothing was charged.",
        "missing": "This payment page does not exist (the sandbox may have been reset).",
        "card_declined": "Your card was declined.",
        "insufficient_funds": "Your card has insufficient funds.",
        "expired_card": "Your card has expired.",
        "incorrect_cvc": "Your card's security code is incorrect.",
        "live_card_in_test_mode": "Your card was declined: this is a sandbox, and only test cards work here.",
        "bad_expiry": "Your card's expiration date is incomplete or in the past.",
        "bad_cvc": "Your card's security code is incomplete.",
        "session_not_open": "This payment page is no longer open.",
    },
    "es": {
        "title": "Pagar a Amparo (entorno de pruebas)",
        "sandbox": "Entorno de pruebas de Stripe: no se cobra ninguna tarjeta real. Use una tarjeta de prueba.",
        "monthly": "al mes",
        "email": "Correo electrónico",
        "card": "Número de tarjeta",
        "expiry": "Vencimiento (MM / AA)",
        "cvc": "CVC",
        "name": "Nombre en la tarjeta",
        "pay": "Pagar",
        "subscribe": "Suscribirse",
        "back": "Volver a Amparo (no se cobra nada)",
        "cards": "Tarjetas de prueba",
        "succeeds": "se acepta",
        "declined": "se rechaza",
        "any": "Cualquier fecha de vencimiento futura y tres dígitos cualesquiera como CVC.",
        "expired": "Esta página de pago ha caducado. No se cobró nada.",
        "missing": "Esta página de pago no existe (quizá se reinició el entorno de pruebas).",
        "card_declined": "Su tarjeta fue rechazada.",
        "insufficient_funds": "Su tarjeta no tiene fondos suficientes.",
        "expired_card": "Su tarjeta está vencida.",
        "incorrect_cvc": "El código de seguridad de su tarjeta es incorrecto.",
        "live_card_in_test_mode": "Su tarjeta fue rechazada: esto es un entorno de pruebas y solo funcionan tarjetas de prueba.",
        "bad_expiry": "La fecha de vencimiento de su tarjeta está incompleta o ya pasó.",
        "bad_cvc": "El código de seguridad de su tarjeta está incompleto.",
        "session_not_open": "Esta página de pago ya no está abierta.",
    },
}

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem}
.wide{max-width:60rem}
.note{background:#fff4d6;border:1px solid #e7c365;padding:.5rem .75rem;border-radius:6px}
.error{background:#fde8e8;border:1px solid #c0392b;padding:.5rem .75rem;border-radius:6px}
.amount{font-size:2rem;font-weight:700;margin:.25rem 0 1rem}
label{display:block;margin-top:.75rem;font-weight:600}
input{box-sizing:border-box;width:100%;font:inherit;padding:.6rem;border:1px solid #8792a2;border-radius:6px}
button{font:inherit;padding:.7rem 1.2rem;margin-top:1rem;border:0;border-radius:6px;background:#4b45c6;color:#fff;min-height:44px}
button.small{padding:.3rem .6rem;margin:0;min-height:32px}
a{color:#3730a3}
:focus-visible{outline:3px solid #1a1f36;outline-offset:2px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e8ee;vertical-align:top}
.table{overflow-x:auto}
code{font-size:.9em}
form.act{display:inline}
"""


def answer(fake: FakeStripe, method: str, path: str, form: dict[str, str]) -> Answer | None:
    """The page at ``path``, or None when ``path`` is Stripe's API (``/v1/…``)."""
    match = re.fullmatch(r"/c/pay/(cs_\w+)", path)
    if match:
        return _checkout(fake, method, match[1], form)
    if path == "/" and method == "GET":
        return _html(200, _dashboard(fake))
    if path == "/sandbox.css" and method == "GET":
        return 200, {"Content-Type": "text/css; charset=utf-8", "X-Content-Type-Options": "nosniff"}, STYLE.encode()
    if path == "/act" and method == "POST":
        _act(fake, form)
        return 303, {"Location": "/"}, b""
    return None


# --- the hosted Checkout page -------------------------------------------------------------------


def _checkout(fake: FakeStripe, method: str, session_id: str, form: dict[str, str]) -> Answer:
    session = fake.objects.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _html(404, _page(WORDS["en"]["title"], f"<p class=error>{WORDS['en']['missing']}</p>"))
    words = WORDS.get((session.get("locale") or "en")[:2], WORDS["en"])
    if session["status"] == "complete":
        return _redirect(_success_url(session))
    if session["status"] != "open":
        back = f'<p><a href="{escape(session["cancel_url"] or "/")}">{words["back"]}</a></p>'
        return _html(410, _page(words["title"], f"<p class=error>{words['expired']}</p>{back}"), session)
    error = ""
    if method == "POST":
        error = _card_problem(form)
        if not error:
            decline = fake.pay(session_id, form.get("card_number", ""))
            if decline is None:
                return _redirect(_success_url(fake.objects[session_id]))
            error = decline
    return _html(200, _checkout_form(session, words, form, error), session)


def _card_problem(form: dict[str, str]) -> str:
    """What Stripe's page says before asking the bank: an expiry in the past, a short CVC."""
    expiry = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", form.get("expiry", ""))
    if expiry is None or not 1 <= int(expiry[1]) <= 12:
        return "bad_expiry"
    year = int(expiry[2]) + (2000 if len(expiry[2]) == 2 else 0)
    now = datetime.now(tz=UTC)
    if (year, int(expiry[1])) < (now.year, now.month):
        return "bad_expiry"
    if re.fullmatch(r"\d{3,4}", form.get("cvc", "").strip()) is None:
        return "bad_cvc"
    return ""


def _checkout_form(session: dict, words: dict[str, str], form: dict[str, str], error: str) -> str:
    monthly = session["mode"] == "subscription"
    amount = _money(session["amount_total"]) + (f" <small>{words['monthly']}</small>" if monthly else "")
    problem = f"<p class=error role=alert id=card-error>{escape(words.get(error, error))}</p>" if error else ""
    described = ' aria-describedby="card-error" aria-invalid="true"' if error else ""
    cards = "".join(
        f"<li><code>{number}</code> {words['succeeds'] if outcome is None else words['declined']}</li>"
        for number, outcome in (("4242 4242 4242 4242", None), ("4000 0000 0000 0002", "card_declined"))
    )

    def value(name: str) -> str:
        return escape(form.get(name, ""), quote=True)

    body = f"""
<p class=note>{words["sandbox"]}</p>
<p class=amount>{amount}</p>
<p>{words["email"]}: {escape(session.get("customer_email") or "")}</p>
{problem}
<form method=post action="/c/pay/{escape(session["id"])}">
<label for=card_number>{words["card"]}</label>
<input id=card_number name=card_number inputmode=numeric autocomplete=cc-number required value="{value("card_number")}"{described}>
<label for=expiry>{words["expiry"]}</label>
<input id=expiry name=expiry autocomplete=cc-exp required placeholder="MM / YY" value="{value("expiry")}">
<label for=cvc>{words["cvc"]}</label>
<input id=cvc name=cvc inputmode=numeric autocomplete=cc-csc required value="{value("cvc")}">
<label for=cardholder>{words["name"]}</label>
<input id=cardholder name=name autocomplete=cc-name value="{value("name")}">
<button type=submit>{words["subscribe"] if monthly else words["pay"]} {_money(session["amount_total"])}</button>
</form>
<p><a href="{escape(session["cancel_url"] or "/", quote=True)}">{words["back"]}</a></p>
<h2>{words["cards"]}</h2>
<ul>{cards}</ul>
<p>{words["any"]}</p>
"""
    return _page(words["title"], body, lang=(session.get("locale") or "en")[:2])


def _success_url(session: dict) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


# --- the sandbox's own page ---------------------------------------------------------------------


def _dashboard(fake: FakeStripe) -> str:
    with fake._lock:
        objects = sorted(fake.objects.values(), key=lambda o: o.get("created", 0), reverse=True)
        sessions = [o for o in objects if o.get("object") == "checkout.session"][:20]
        subscriptions = [o for o in objects if o.get("object") == "subscription" and o["status"] != "canceled"]
        charges = [o for o in objects if o.get("object") == "charge"][:20]
    deliveries = fake.webhooks.recent() if fake.webhooks is not None else []
    rows = "".join(
        f"<tr><td><code>{escape(s['id'][:20])}…</code></td><td>{escape(s['mode'])}</td>"
        f"<td>{_money(s['amount_total'])}</td><td>{escape(s['status'])}</td><td>{_when(s['created'])}</td></tr>"
        for s in sessions
    )
    subs = "".join(
        f"<tr><td><code>{escape(s['id'])}</code></td><td>{_money(s['amount'])}</td><td>{escape(s['status'])}</td>"
        f"<td>{_button('charge_next_month', s['id'], 'Take the next payment now')}</td></tr>"
        for s in subscriptions
    )
    charge_rows = "".join(
        f"<tr><td><code>{escape(c['id'])}</code></td><td>{_money(c['amount'])}</td>"
        f"<td>{_money(c['amount_refunded'])}</td><td>{'yes' if c.get('disputed') else ''}</td><td>"
        + (
            _button("refund", c["id"], "Refund in full") + " " + _button("dispute", c["id"], "Dispute")
            if c["paid"] and c["amount_refunded"] < c["amount"] and not c.get("disputed")
            else ""
        )
        + "</td></tr>"
        for c in charges
    )
    sent = "".join(
        f"<tr><td>{escape(d.event_type)}</td><td>{d.status or escape(d.last_error) or 'waiting'}</td>"
        f"<td>{d.attempts}</td></tr>"
        for d in deliveries
    )
    target = escape(fake.webhooks.url) if fake.webhooks is not None else "nowhere (no endpoint set)"
    body = f"""
<p class=note>A stand-in for Stripe, for the demo only: nothing here reaches a bank. Webhooks go to
<code>{target}</code>.</p>
<form method=post action="/act"><input type=hidden name=action value=payout>
<button type=submit>Pay the balance out to the bank</button></form>
<h2>Monthly gifts</h2>
<div class=table><table><tr><th>Subscription</th><th>Amount</th><th>Status</th><th>Stripe's part</th></tr>{subs}</table></div>
<h2>Payments</h2>
<div class=table><table><tr><th>Charge</th><th>Amount</th><th>Refunded</th><th>Disputed</th><th>From the dashboard</th></tr>{charge_rows}</table></div>
<h2>Checkout sessions</h2>
<div class=table><table><tr><th>Session</th><th>Mode</th><th>Amount</th><th>Status</th><th>Created</th></tr>{rows}</table></div>
<h2>Webhooks sent</h2>
<div class=table><table><tr><th>Event</th><th>Answer</th><th>Attempts</th></tr>{sent}</table></div>
"""
    return _page("Stripe sandbox", body, wide=True)


def _act(fake: FakeStripe, form: dict[str, str]) -> None:
    action, object_id = form.get("action", ""), form.get("id", "")
    if action == "payout":
        fake.payout_balance()
        return
    if object_id not in fake.objects:
        return
    if action == "charge_next_month":
        fake.charge_next_month(object_id)
    elif action == "refund":
        fake.refund_in_dashboard(object_id)
    elif action == "dispute":
        fake.dispute(object_id)


def _button(action: str, object_id: str, label: str) -> str:
    return (
        f'<form class=act method=post action="/act"><input type=hidden name=action value={action}>'
        f'<input type=hidden name=id value="{escape(object_id, quote=True)}">'
        f"<button class=small type=submit>{escape(label)}</button></form>"
    )


# --- bits ---------------------------------------------------------------------------------------


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _page(title: str, body: str, *, lang: str = "en", wide: bool = False) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><link rel=stylesheet href=/sandbox.css></head>"
        f'<body><main class="{"wide" if wide else ""}"><h1>{escape(title)}</h1>{body}</main></body></html>'
    )


def _html(status: int, html: str, session: dict | None = None) -> Answer:
    # The form posts to this page, whose answer sends the donor back to Amparo: Chromium checks that
    # redirect against form-action too, so Amparo's own addresses are listed.
    origins = (
        {
            f"{part.scheme}://{part.netloc}"
            for part in (urlsplit(session.get(key) or "") for key in ("success_url", "cancel_url"))
            if part.scheme in {"http", "https"}
        }
        if session
        else set()
    )
    policy = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; form-action 'self' " + " ".join(
        sorted(origins)
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": policy.strip(),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return status, headers, html.encode()


def _redirect(url: str) -> Answer:
    return 303, {"Location": url, "Cache-Control": "no-store"}, b""

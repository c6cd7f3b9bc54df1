"""The database side of the mixed-load drill (bench/drills/mixed_load.py): run as its own process,
with the same environment as the app's (production settings), never inside the gevent-patched driver.

    python bench/drills/mixed_load_db.py setup SPEC.json      # staff sessions and the cases to work on
    python bench/drills/mixed_load_db.py drain RECORDS.json   # wait until the queues are empty
    python bench/drills/mixed_load_db.py verify RECORDS.json  # every recorded write against the database

Each prints one JSON object on its last line of stdout.

``setup`` signs staff in by making their sessions directly (Django's test ``Client.force_login``, as
scripts/scan.sh does): the demo accounts have an authenticator, so the MFA middleware lets those
sessions through, and scripted TOTP sign-ins for a dozen sessions would test allauth, not the load.

``drain`` waits (up to ``--timeout`` seconds) until no outbox message is unsent, both Celery queues
in Redis are empty, every stored Stripe event is processed (or parked) and no report run is waiting
or running. What is still left then is reported, and the beat's sweeps are run once by hand
(outbox, stale Stripe events, stuck report runs, unsent receipts, with their waiting periods
shortened: what the beat would do later) and it waits again; the JSON says what the sweeps had to
recover.

``verify`` checks every write the load made (see mixed_load.py's ``Record``): a confirmed write
exists exactly once; an unconfirmed one (the 503 "could not confirm" page, a dropped connection)
0 or 1 times; an edit's field holds the last confirmed value (or a later unconfirmed one); every
Stripe event delivered is processed once; every report asked for is done.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amparo.settings")

import django

django.setup()

import redis  # noqa: E402 - after django.setup(), like every import below
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from casework.models import Case, Detainee, Hearing, Note  # noqa: E402
from funds.models import Donation, Payout, StripeEvent  # noqa: E402
from funds.models.ledger import Transaction  # noqa: E402
from funds.services.receipts import receipts_requeue_unsent  # noqa: E402
from funds.services.stripe_events import stripe_events_requeue_stale  # noqa: E402
from kernel.enqueue import outbox_sweep  # noqa: E402
from kernel.models import OutboxMessage, SubmissionKey  # noqa: E402
from reports.models import ReportRun  # noqa: E402
from reports.services import report_runs_sweep  # noqa: E402

BACKEND = "accounts.backends.StaffAuthenticationBackend"
ACTIVE_RUNS = (ReportRun.Status.QUEUED, ReportRun.Status.RUNNING)


def setup(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec``: ``{"sessions": {"e-mail": count}}``. Returns the session keys per e-mail, the open
    cases' numbers and the sizes of the data set."""
    sessions: dict[str, list[str]] = {}
    for email, count in spec["sessions"].items():
        user = User.objects.get(email=email)
        sessions[email] = []
        for _ in range(count):
            client = Client()
            client.force_login(user, backend=BACKEND)
            sessions[email].append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    open_cases = list(Case.objects.filter(closed_at__isnull=True).order_by("number").values_list("number", flat=True))
    return {
        "sessions": sessions,
        "open_cases": open_cases,
        "data": {
            "cases": Case.objects.count(),
            "open_cases": len(open_cases),
            "hearings": Hearing.objects.count(),
            "notes": Note.objects.count(),
            "donations": Donation.objects.count(),
            "staff": User.objects.count(),
        },
    }


def _backlog(broker: redis.Redis) -> dict[str, int]:
    queues = {}
    for queue in ("celery", "reports"):
        try:
            queues[queue] = int(broker.llen(queue))
        except redis.RedisError:
            queues[queue] = -1
    return {
        "outbox_unsent": OutboxMessage.objects.filter(sent_at__isnull=True).count(),
        "queue_celery": queues["celery"],
        "queue_reports": queues["reports"],
        "stripe_events_unprocessed": StripeEvent.objects.filter(
            processed_at__isnull=True, parked_at__isnull=True
        ).count(),
        "report_runs_active": ReportRun.objects.filter(status__in=ACTIVE_RUNS).count(),
    }


def _wait(broker: redis.Redis, timeout: float) -> tuple[bool, dict[str, int], float]:
    started = time.monotonic()
    while True:
        left = _backlog(broker)
        if not any(left.values()):
            return True, left, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return False, left, time.monotonic() - started
        time.sleep(2)


def drain(records: dict[str, Any], timeout: float) -> dict[str, Any]:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
    drained, left, waited = _wait(broker, timeout)
    result: dict[str, Any] = {"drained_by_itself": drained, "waited_seconds": round(waited, 1), "left": left}
    if not drained:
        # What the beat would do later, now: the sweeps with their waiting periods shortened.
        swept = {
            "outbox": outbox_sweep(older_than_seconds=0),
            "stripe_events_requeued": stripe_events_requeue_stale(older_than=timedelta(seconds=0)),
            "report_runs": report_runs_sweep(),
            "receipts_requeued": receipts_requeue_unsent(after=timedelta(seconds=0)),
        }
        drained, left, waited = _wait(broker, timeout)
        result.update(swept=swept, drained_after_sweeps=drained, left_after_sweeps=left)
    return result


def _count_by(values: list[str]) -> Counter[str]:
    return Counter(values)


def verify(records: dict[str, Any]) -> dict[str, Any]:
    """See the module docstring. Returns per kind: confirmed, unconfirmed, lost, doubled, and the
    problems found (each with its record)."""
    writes = records["writes"]
    detainee_names = _count_by([d.given_names for d in Detainee.objects.only("given_names")])
    cases_by_name = _count_by([c.detainee.given_names for c in Case.objects.select_related("detainee")])
    note_bodies = [n.body for n in Note.objects.only("body")]
    judges = _count_by(list(Hearing.objects.values_list("judge", flat=True)))
    keys = set(SubmissionKey.objects.values_list("key", flat=True))
    languages = dict(Case.objects.values_list("number", "detainee__languages"))

    def note_count(token: str) -> int:
        return sum(1 for body in note_bodies if token in body)

    summary: dict[str, dict[str, int]] = {}
    problems: list[dict[str, Any]] = []

    def tally(kind: str, outcome: str) -> None:
        summary.setdefault(kind, Counter())[outcome] += 1  # type: ignore[index]

    edits: dict[str, list[dict[str, Any]]] = {}
    for write in writes:
        kind, ident, confirmed = write["kind"], write["ident"], write["confirmed"]
        if kind == "edit":
            edits.setdefault(write["case"], []).append(write)
            continue
        if kind == "intake":
            found = max(detainee_names[ident], cases_by_name[ident])
        elif kind == "note":
            found = note_count(ident)
        elif kind == "hearing":
            found = judges[ident]
        elif kind == "give" and not write["extra"].get("paid_delivered"):
            # Checkout started but never paid (the run ended first, or the form was not confirmed):
            # /give/ writes nothing of ours before the webhook, so there is nothing to find.
            tally(kind, "checkout_not_paid")
            continue
        elif kind == "give":
            session = write["extra"].get("session")
            if session:
                found = Donation.objects.filter(stripe_checkout_session_id=session).count()
            else:
                found = Donation.objects.filter(form_nonce=write["extra"]["nonce"]).count()
            if found == 1 and write["extra"].get("paid_delivered"):
                donation = Donation.objects.get(
                    **({"stripe_checkout_session_id": session} if session else {"form_nonce": write["extra"]["nonce"]})
                )
                if donation.status != Donation.Status.PAID:
                    problems.append({"problem": "gift paid and its webhook delivered, but not paid", **write})
                elif Transaction.objects.filter(key=f"donation:{donation.pk}").count() != 1:
                    problems.append({"problem": "paid gift without exactly one ledger transaction", **write})
                elif settings.FUNDS_SEND_RECEIPTS and donation.receipt_sent_at is None:
                    problems.append({"problem": "paid gift whose receipt was never sent", **write})
        elif kind == "payout":
            found = Payout.objects.filter(stripe_payout_id=ident).count()
            if write["extra"].get("delivered") and (Transaction.objects.filter(key=f"payout:{ident}").count() != 1):
                problems.append({"problem": "payout without exactly one ledger transaction", **write})
        elif kind == "report":
            pk = write["extra"].get("run")
            if pk is None and write["extra"].get("key") in keys:
                url = SubmissionKey.objects.get(key=write["extra"]["key"]).result_url
                pk = int(url.rstrip("/").rsplit("/", 1)[1]) if url else None
            run = ReportRun.objects.filter(pk=pk).first() if pk else None
            found = 1 if run is not None else 0
            if run is not None and run.status != ReportRun.Status.DONE:
                problems.append({"problem": f"report run {run.pk} {run.status} ({run.failure} {run.error})", **write})
        else:
            continue
        key = write["extra"].get("key")
        if key and found and key not in keys and kind != "give":
            problems.append({"problem": "written but its one-time key not claimed", **write})
        if confirmed:
            outcome = "ok" if found == 1 else ("lost" if found == 0 else "doubled")
        else:
            outcome = "unconfirmed_absent" if found == 0 else ("unconfirmed_saved" if found == 1 else "doubled")
        tally(kind, outcome)
        if outcome in {"lost", "doubled"}:
            problems.append({"problem": f"{outcome}: found {found}", **write})

    for number, sequence in edits.items():
        sequence.sort(key=lambda w: w["extra"]["seq"])
        last_confirmed = max((i for i, w in enumerate(sequence) if w["confirmed"]), default=None)
        if last_confirmed is None:
            allowed = {sequence[0]["extra"]["before"], *(w["ident"] for w in sequence)}
        else:
            allowed = {w["ident"] for w in sequence[last_confirmed:]}
        value = languages.get(number)
        for write in sequence:
            tally("edit", "ok" if write["confirmed"] else "unconfirmed")
        if value not in allowed:
            summary["edit"]["lost"] += 1  # type: ignore[index]
            problems.append(
                {"problem": f"case {number}: languages is {value!r}, expected one of {sorted(allowed)}", "case": number}
            )

    # Every Stripe event the load delivered (answered 200 at least once) is processed, once.
    delivered = records.get("events_delivered", [])
    events = {e.event_id: e for e in StripeEvent.objects.filter(event_id__in=delivered)}
    event_problems = 0
    for event_id in delivered:
        event = events.get(event_id)
        if event is None or event.processed_at is None or event.parked_at is not None:
            event_problems += 1
            problems.append(
                {
                    "problem": "stripe event delivered but not processed",
                    "event": event_id,
                    "state": None
                    if event is None
                    else {"attempts": event.attempts, "parked": bool(event.parked_at), "error": event.error[:200]},
                }
            )
    return {
        "writes": {kind: dict(counts) for kind, counts in summary.items()},
        "events": {"delivered": len(delivered), "not_processed": event_problems},
        "report_runs": dict(Counter(ReportRun.objects.values_list("status", flat=True))),
        "outbox_unsent": OutboxMessage.objects.filter(sent_at__isnull=True).count(),
        "checked_at": timezone.now().isoformat(),
        "problems": problems,
    }


def main() -> None:
    command, path = sys.argv[1], sys.argv[2]
    data = json.loads(Path(path).read_text())
    if command == "setup":
        result = setup(data)
    elif command == "drain":
        result = drain(data, float(sys.argv[3]) if len(sys.argv) > 3 else 180)
    elif command == "verify":
        result = verify(data)
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

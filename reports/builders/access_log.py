"""The access log for a period: who read, changed, exported or downloaded what, in time order.

``AccessEvent.object_ref`` is a public reference by design (a case number, a staff e-mail),
so the rows carry no detainee personal data. The log can be long: rows are streamed from the
database in chunks, as plain tuples, and progress is reported as they come.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AccessEvent
from reports.builders.period import Period, Progress
from reports.data import Column, ReportData, Section

CHUNK = 2000


def build_access_log(period: Period, progress: Progress) -> ReportData:
    events = AccessEvent.objects.filter(at__gte=period.start, at__lt=period.end)
    total = events.count()
    progress(5)
    actions = dict(AccessEvent.Action.choices)
    columns = [
        Column("at", _("When"), "datetime"),
        Column("who", _("Who")),
        Column("action", _("Action")),
        Column("object_type", _("Object type")),
        Column("object_ref", _("Object reference")),
        Column("detail", _("Detail")),
        Column("ip", _("IP address")),
    ]
    rows = []
    fields = ("at", "user__email", "action", "object_type", "object_ref", "detail", "ip_address")
    for at, email, action, object_type, object_ref, detail, ip in (
        events.order_by("at", "id").values_list(*fields).iterator(chunk_size=CHUNK)
    ):
        rows.append(
            {
                "at": period.local(at),
                "who": email,
                "action": str(actions.get(action, action)),
                "object_type": object_type,
                "object_ref": object_ref,
                "detail": detail,
                "ip": ip or "",
            }
        )
        if len(rows) % CHUNK == 0:
            progress(5 + 90 * len(rows) / max(total, 1))
    return ReportData(
        kind="access_log",
        title=_("Access log"),
        parameters=period.parameters(with_fund=False),
        sections=[Section(title=_("Events in the period, oldest first"), columns=columns, rows=rows)],
        notes=[ngettext("%(count)d event.", "%(count)d events.", len(rows)) % {"count": len(rows)}],
    )

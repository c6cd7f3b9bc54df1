"""Every write in casework. Functions are keyword-only and atomic; docstrings list side effects.

One module per object (``case``, ``custody``, ``relief``, ``hearings``, ``deadlines``,
``assignment``, ``intake``, ``records``, ``calendar``, ``reminders``); ``history`` writes the
case timeline and the access log for all of them. This package's public names are listed in
``__all__`` below, so views can say ``services.case_assign(...)``.
"""

from casework.services.assignment import assignment_end, case_assign, cases_bulk_reassign, cases_flag_for_reassignment
from casework.services.case import case_close, case_reopen, case_update_details
from casework.services.custody import custody_record_change
from casework.services.deadlines import (
    deadline_add_from_rule,
    deadline_add_manual,
    deadline_set_status,
    deadline_update,
)
from casework.services.hearings import hearing_schedule, hearing_update
from casework.services.intake import ContactData, IntakeData, case_register
from casework.services.records import DocumentRejected, document_upload, note_add
from casework.services.relief import relief_save

__all__ = [
    "ContactData",
    "DocumentRejected",
    "IntakeData",
    "assignment_end",
    "case_assign",
    "case_close",
    "case_register",
    "case_reopen",
    "case_update_details",
    "cases_bulk_reassign",
    "cases_flag_for_reassignment",
    "custody_record_change",
    "deadline_add_from_rule",
    "deadline_add_manual",
    "deadline_set_status",
    "deadline_update",
    "document_upload",
    "hearing_schedule",
    "hearing_update",
    "note_add",
    "relief_save",
]

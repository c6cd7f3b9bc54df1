"""Every write in casework. Functions are keyword-only and atomic; docstrings list side effects.

One module per object (``case``, ``custody``, ``relief``, ``appearances``, ``hearings``, ``deadlines``,
``decisions``, ``assignment``, ``intake``, ``records``, ``calendar``, ``reminders``); ``history`` writes the
case timeline and the access log for all of them. This package's public names are listed in
``__all__`` below, so views can say ``services.case_assign(...)``.
"""

from casework.services.appearances import appearance_record
from casework.services.assignment import assignment_end, case_assign, cases_bulk_reassign, cases_flag_for_reassignment
from casework.services.case import case_close, case_reopen, case_update_details
from casework.services.custody import case_record_uac_determination, custody_record_change, custody_update_supervision
from casework.services.deadlines import (
    deadline_add_from_rule,
    deadline_add_manual,
    deadline_set_status,
    deadline_update,
)
from casework.services.decisions import (
    deadline_plan,
    decision_record,
    decision_update,
    decision_withdraw,
)
from casework.services.hearings import hearing_record_outcome, hearing_schedule, hearing_update
from casework.services.intake import ContactData, IntakeData, case_open_new_matter, case_register
from casework.services.records import DocumentRejected, document_upload, note_add
from casework.services.relief import relief_save

__all__ = [
    "ContactData",
    "DocumentRejected",
    "IntakeData",
    "appearance_record",
    "assignment_end",
    "case_assign",
    "case_close",
    "case_open_new_matter",
    "case_record_uac_determination",
    "case_register",
    "case_reopen",
    "case_update_details",
    "cases_bulk_reassign",
    "cases_flag_for_reassignment",
    "custody_record_change",
    "custody_update_supervision",
    "deadline_add_from_rule",
    "deadline_add_manual",
    "deadline_plan",
    "deadline_set_status",
    "deadline_update",
    "decision_record",
    "decision_update",
    "decision_withdraw",
    "document_upload",
    "hearing_record_outcome",
    "hearing_schedule",
    "hearing_update",
    "note_add",
    "relief_save",
]

"""Every write in casework. Functions are keyword-only and atomic; docstrings list side effects."""

from casework.services.assignment import assignment_end, case_assign, cases_bulk_reassign, cases_flag_for_reassignment
from casework.services.case import (
    case_close,
    case_reopen,
    case_update_details,
    custody_record_change,
    relief_save,
)
from casework.services.hearings import (
    deadline_add_from_rule,
    deadline_add_manual,
    deadline_set_status,
    deadline_update,
    hearing_schedule,
    hearing_update,
)
from casework.services.intake import IntakeData, case_register
from casework.services.records import DocumentRejected, document_upload, note_add

__all__ = [
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

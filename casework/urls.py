from django.urls import path

from casework.views import calendar, cases, erasure, hearings, intake, supervision
from casework.views import oversight as oversight_views

app_name = "casework"

urlpatterns = [
    path("intake/", intake.intake, name="intake"),
    path("intake/check/", intake.intake_check, name="intake-check"),
    path("dashboard/", cases.dashboard, name="dashboard"),
    path("cases/", cases.case_list, name="case-list"),
    path("cases/<str:number>/", cases.case_detail, name="case-detail"),
    path("cases/<str:number>/edit/", cases.case_edit, name="case-edit"),
    path("cases/<str:number>/custody/", cases.custody_change, name="custody-change"),
    path("cases/<str:number>/custody/supervision/", cases.custody_supervision, name="custody-supervision"),
    path("cases/<str:number>/minor/", cases.uac_determination, name="uac-determination"),
    path("cases/<str:number>/appearances/", cases.appearance_record, name="appearance-record"),
    path("cases/<str:number>/notes/", cases.note_add, name="note-add"),
    path("cases/<str:number>/documents/", cases.document_upload, name="document-upload"),
    path("cases/<str:number>/documents/<int:pk>/", cases.document_download, name="document-download"),
    path("cases/<str:number>/relief/", cases.relief_save, name="relief-save"),
    path("cases/<str:number>/close/", cases.case_close, name="case-close"),
    path("cases/<str:number>/reopen/", cases.case_reopen, name="case-reopen"),
    path("cases/<str:number>/hearings/new/", hearings.hearing_new, name="hearing-new"),
    path("cases/<str:number>/hearings/<int:pk>/", hearings.hearing_edit, name="hearing-edit"),
    path("cases/<str:number>/decisions/new/", hearings.decision_new, name="decision-new"),
    path("cases/<str:number>/decisions/<int:pk>/", hearings.decision_edit, name="decision-edit"),
    path("cases/<str:number>/deadlines/new/", hearings.deadline_new, name="deadline-new"),
    path("cases/<str:number>/deadlines/<int:pk>/", hearings.deadline_edit, name="deadline-edit"),
    path("cases/<str:number>/deadlines/<int:pk>/status/", hearings.deadline_status, name="deadline-status"),
    path("cases/<str:number>/assign/", supervision.case_assign, name="case-assign"),
    path("cases/<str:number>/assignments/<int:pk>/end/", supervision.assignment_end, name="assignment-end"),
    path("triage/", supervision.triage, name="triage"),
    path("workload/", supervision.workload, name="workload"),
    path("reassign/", supervision.bulk_reassign, name="bulk-reassign"),
    path("search/", supervision.search, name="search"),
    path("cases/<str:number>/erase/", erasure.erasure_request, name="erasure-request"),
    path("erasures/", erasure.erasure_list, name="erasure-list"),
    path("erasures/<int:pk>/confirm/", erasure.erasure_confirm, name="erasure-confirm"),
    path("erasures/<int:pk>/cancel/", erasure.erasure_cancel, name="erasure-cancel"),
    path("oversight/demands/", oversight_views.legal_demand_list, name="legal-demand-list"),
    path("oversight/demands/new/", oversight_views.legal_demand_new, name="legal-demand-new"),
    path("oversight/demands/<str:reference>/", oversight_views.legal_demand_detail, name="legal-demand-detail"),
    path("cases/<str:number>/reads/", oversight_views.case_reads, name="case-reads"),
    path("oversight/staff/<int:user_id>/reads/", oversight_views.staff_reads, name="staff-reads"),
    path("oversight/alerts/", oversight_views.read_alert_list, name="read-alert-list"),
    path(
        "oversight/alerts/<int:pk>/acknowledge/", oversight_views.read_alert_acknowledge, name="read-alert-acknowledge"
    ),
    path("calendar/", calendar.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
]

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("audit/funds/", views.funds, name="funds"),
    path("audit/ledger/", views.ledger, name="ledger"),
    path("audit/donations/", views.donations, name="donations"),
    path("audit/disbursements/", views.disbursements, name="disbursements"),
    path("audit/bonds/", views.bonds, name="bonds"),
    path("audit/access-log/", views.access_log, name="access-log"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/progress/", views.report_progress, name="report-progress"),
    path("reports/<int:pk>/download/<str:file_format>/", views.report_download, name="report-download"),
    path("verify/", views.verify, name="verify"),
]

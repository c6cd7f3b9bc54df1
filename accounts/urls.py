from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/invite/", views.staff_invite, name="staff-invite"),
    path("staff/<int:pk>/", views.staff_detail, name="staff-detail"),
    path("staff/<int:pk>/role/", views.staff_set_role, name="staff-set-role"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff-deactivate"),
    path("staff/<int:pk>/reactivate/", views.staff_reactivate, name="staff-reactivate"),
    path("staff/<int:pk>/resend-invitation/", views.staff_resend_invitation, name="staff-resend-invitation"),
    path("staff/<int:pk>/reset-authenticator/", views.staff_reset_mfa, name="staff-reset-mfa"),
    path("staff/<int:pk>/sign-out/", views.staff_sign_out_everywhere, name="staff-sign-out-everywhere"),
    path("staff/sign-out-everyone/", views.staff_sign_out_everyone, name="staff-sign-out-everyone"),
    path("sessions/", views.my_sessions, name="sessions"),
    path("sessions/end/", views.my_session_end, name="session-end"),
    path("sessions/end-others/", views.my_sessions_end_others, name="sessions-end-others"),
    path("sessions/after-change/", views.sessions_after_change, name="sessions-after-change"),
    path("access-log/", views.access_log, name="access-log"),
]

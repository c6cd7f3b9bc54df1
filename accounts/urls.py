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
    path("access-log/", views.access_log, name="access-log"),
]

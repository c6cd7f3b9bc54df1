from django.contrib import admin

from accounts.models import AccessEvent, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "is_active", "date_joined"]
    list_filter = ["is_active", "groups"]
    search_fields = ["email", "full_name"]
    # Accounts are created, given roles and deactivated through Amparo's staff pages,
    # which keep the access log; the admin only reads them.
    readonly_fields = [f.name for f in User._meta.fields] + ["groups"]
    exclude = ["password", "user_permissions"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "object_type", "object_ref", "ip_address"]
    list_filter = ["action", "object_type"]
    readonly_fields = [f.name for f in AccessEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

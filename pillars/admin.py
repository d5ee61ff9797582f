from django.contrib import admin

from accounts.permissions import Action, can
from pillars.models import ProgrammeVariant


@admin.register(ProgrammeVariant)
class ProgrammeVariantAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "active")
    prepopulated_fields = {"code": ("name",)}

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request) -> bool:
        return can(request.user, Action.MANAGE_DESIGNATIONS)

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.MANAGE_DESIGNATIONS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

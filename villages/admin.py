from django.contrib import admin

from accounts.admin import ScopedAdminMixin
from accounts.models import Role, User
from villages.models import Designation, Region, RegionEdition


@admin.register(Region)
class RegionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    write_action = None  # regions come from official editions through load_regions
    list_display = ("code", "name", "level", "retired_in")
    list_filter = ("level",)
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(RegionEdition)
class RegionEditionAdmin(admin.ModelAdmin):
    list_display = ("label", "loaded_at", "created", "updated", "retired")

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Designation)
class DesignationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("village", "cohort_year", "status", "variant", "start_date")
    list_filter = ("status", "cohort_year", "variant")
    list_select_related = ("village", "variant")
    search_fields = ("village__name", "village__code")
    autocomplete_fields = ("village",)
    filter_horizontal = ("officers",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "officers":
            kwargs["queryset"] = User.objects.for_user(request.user).filter(
                role__in=[Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD], is_active=True
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

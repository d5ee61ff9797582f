from django.contrib import admin

from accounts.admin import ScopedAdminMixin
from migrants.models import Person, PersonHistory


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The register is edited through its pages (services write the history); the admin
    only reads it, inside the user's scope."""

    write_action = None


@admin.register(Person)
class PersonAdmin(ReadOnlyScopedAdmin):
    list_display = ("full_name", "masked_nik", "village", "status", "verification")
    list_filter = ("status", "verification", "sex")
    list_select_related = ("village",)
    search_fields = ("full_name",)
    show_full_result_count = False
    exclude = ("nik", "no_kk", "name_key")
    readonly_fields = ("masked_nik", "masked_kk")

    def get_queryset(self, request):
        return super().get_queryset(request).alive()


@admin.register(PersonHistory)
class PersonHistoryAdmin(ReadOnlyScopedAdmin):
    list_display = ("at", "person", "action", "actor", "source")
    list_filter = ("action", "source")
    list_select_related = ("person", "actor")
    show_full_result_count = False

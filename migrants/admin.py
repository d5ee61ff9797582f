from django.contrib import admin
from import_export.admin import ExportMixin

from accounts.admin import ScopedAdminMixin
from accounts.permissions import Action, can
from accounts.reauth import require_reauthentication
from migrants.access import LoggedReadAdminMixin
from migrants.models import ExportLog, Person, PersonHistory, SensitiveAccess
from migrants.resources import RegisterResource


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The register is edited through its pages (services write the history); the admin
    only reads it, inside the user's scope."""

    write_action = None


@admin.register(Person)
class PersonAdmin(LoggedReadAdminMixin, ExportMixin, ReadOnlyScopedAdmin):
    resource_classes = [RegisterResource]
    list_display = ("full_name", "masked_nik", "village", "status", "verification")
    list_filter = ("status", "verification", "sex")
    list_select_related = ("village",)
    search_fields = ("full_name",)
    show_full_result_count = False
    exclude = ("nik", "no_kk", "name_key")
    readonly_fields = ("masked_nik", "masked_kk")

    def get_queryset(self, request):
        return super().get_queryset(request).alive()

    def has_export_permission(self, request) -> bool:
        return can(request.user, Action.EXPORT_REGISTER)

    def logged_read(self, obj):
        return (SensitiveAccess.Kind.CHILD_RECORD, obj) if obj.is_child else None

    def export_action(self, request):
        # Like the register's own export page: the password again before the file.
        if request.method == "POST" and self.has_export_permission(request):
            require_reauthentication(request)
        return super().export_action(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        ExportLog.objects.create(
            actor=request.user,
            scope_id=request.user.scope_id,
            format=file_format.get_title()[:5],
            rows=queryset.count(),
            filters={"source": "admin", **dict(request.GET.items())},
        )
        return data


@admin.register(PersonHistory)
class PersonHistoryAdmin(ReadOnlyScopedAdmin):
    list_display = ("at", "person", "action", "actor", "source")
    list_filter = ("action", "source")
    list_select_related = ("person", "actor")
    show_full_result_count = False

from django.contrib import admin

from accounts.admin import ScopedAdminMixin
from accounts.permissions import Action, can
from reports.models import ReportDownload, ReportJob


@admin.register(ReportJob)
class ReportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read only: jobs are requested, retried and cleaned up through reports.services."""

    write_action = None
    list_display = (
        "kind",
        "format",
        "scope",
        "period_start",
        "period_end",
        "state",
        "progress",
        "attempts",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "kind", "format", "scheduled")
    list_select_related = ("scope", "requested_by")
    date_hierarchy = "created_at"
    show_full_result_count = False
    exclude = ("idempotency_key",)


@admin.register(ReportDownload)
class ReportDownloadAdmin(admin.ModelAdmin):
    list_display = ("at", "job", "user", "via")
    list_filter = ("via",)
    list_select_related = ("job", "user")
    show_full_result_count = False

    def get_queryset(self, request):
        visible = ReportJob.objects.for_user(request.user).values("pk")
        return super().get_queryset(request).filter(job__in=visible)

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

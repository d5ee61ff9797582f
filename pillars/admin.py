"""The programme's configuration (variants and their pillars, partners and their programmes)
is edited here by the ministry; pillar records are read here, scoped, and written only
through the pages (which go through pillars.services and the audit trail).

Nothing is deleted in the admin: records point to pillars and programmes, so an
administrator deactivates them instead."""

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Field, prefetch_related_objects
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import ScopedAdminMixin
from accounts.permissions import Action, can
from migrants.access import LoggedReadAdminMixin
from migrants.models import Person, SensitiveAccess
from pillars.models import (
    Activity,
    AuditEntry,
    Case,
    CaseStep,
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    MonthlyReport,
    Outreach,
    ParentingGroup,
    ParentingSession,
    Partner,
    PartnerProgramme,
    Pillar,
    ProgrammeVariant,
    Referral,
    ServiceLog,
    Training,
)
from pillars.views.people import hide_people, person_fields, with_people_shown


class ProgrammeAdminMixin:
    """Read by every admin user; added to and changed by MANAGE_PROGRAMME; never deleted."""

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_add_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.MANAGE_PROGRAMME)

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.MANAGE_PROGRAMME)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PillarInline(ProgrammeAdminMixin, admin.TabularInline):
    model = Pillar
    fields = ("order", "code", "name", "kind", "description", "active")
    extra = 1
    ordering = ("order", "id")


@admin.register(ProgrammeVariant)
class ProgrammeVariantAdmin(ProgrammeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "active")
    list_filter = ("active",)
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    inlines = [PillarInline]


@admin.register(Pillar)
class PillarAdmin(ProgrammeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "variant", "order", "code", "kind", "active")
    list_filter = ("variant", "kind", "active")
    list_select_related = ("variant",)
    search_fields = ("name", "code")
    ordering = ("variant__name", "order", "id")


class PartnerProgrammeInline(ProgrammeAdminMixin, admin.TabularInline):
    model = PartnerProgramme
    fields = ("code", "name", "description", "active")
    extra = 1


@admin.register(Partner)
class PartnerAdmin(ProgrammeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "active")
    list_filter = ("active",)
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    inlines = [PartnerProgrammeInline]


@admin.register(PartnerProgramme)
class PartnerProgrammeAdmin(ProgrammeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "partner", "code", "active")
    list_filter = ("partner", "active")
    list_select_related = ("partner",)
    search_fields = ("name", "code")


# --- Records: read only, scoped ----------------------------------------------------------------


def shown_people(field: Field):
    """The admin's display of a record's person field: the people the reader may see, with a
    link to them, and the placeholder for the others (the record is given through
    `hide_people` first, in `RecordAdmin.render_change_form`)."""

    @admin.display(description=field.verbose_name)
    def shown(obj) -> str:
        value = getattr(obj, field.name)
        people = list(value.all()) if field.many_to_many else [value]
        parts = []
        for person in people:
            if isinstance(person, Person):
                url = reverse("admin:migrants_person_change", args=[quote(person.pk)])
                parts.append(format_html('<a href="{}">{}</a>', url, person))
            elif person is not None:  # the placeholder
                parts.append(str(person))
        return format_html_join(", ", "{}", ((part,) for part in parts)) if parts else "-"

    return shown


class RecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A pillar register, read only: writes go through the pages and their services.

    A record names a person only when the reader may see that person (see
    pillars.views.people): its person fields are shown through `<field>_shown`."""

    write_action = None
    list_select_related = ("village", "pillar")
    show_full_result_count = False

    def __init__(self, model, admin_site) -> None:
        super().__init__(model, admin_site)
        fields = person_fields(model)
        self.people = [field.name for field in fields]
        for field in fields:
            setattr(self, f"{field.name}_shown", shown_people(field))

    def get_queryset(self, request):
        return with_people_shown(super().get_queryset(request), request.user)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return list(
            dict.fromkeys(f"{name}_shown" if name in self.people else name for name in fields)
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{n}_shown" for n in self.people)]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            lists = [field.name for field in obj._meta.many_to_many if field.name in self.people]
            prefetch_related_objects([obj], *lists)
            hide_people(request.user, [obj])
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(ServiceLog)
class ServiceLogAdmin(RecordAdmin):
    list_display = ("date", "service_type", "village", "pillar", "deleted_at")
    list_filter = ("service_type",)


@admin.register(Outreach)
class OutreachAdmin(RecordAdmin):
    list_display = ("date", "topic", "village", "attendees_male", "attendees_female")
    list_filter = ("date",)
    search_fields = ("topic",)


@admin.register(Enterprise)
class EnterpriseAdmin(RecordAdmin):
    list_display = ("name", "sector", "state", "village", "deleted_at")
    list_filter = ("sector", "state", "export_ready")
    search_fields = ("name", "products")


@admin.register(Training)
class TrainingAdmin(RecordAdmin):
    list_display = ("topic", "organiser", "start_date", "end_date", "village")
    search_fields = ("topic", "organiser")


@admin.register(ParentingGroup)
class ParentingGroupAdmin(RecordAdmin):
    list_display = ("name", "village", "active", "deleted_at")
    search_fields = ("name",)


@admin.register(ParentingSession)
class ParentingSessionAdmin(RecordAdmin):
    list_display = ("date", "topic", "group", "village", "children_attending")
    list_select_related = ("village", "pillar", "group")
    search_fields = ("topic",)


@admin.register(ChildEnrolment)
class ChildEnrolmentAdmin(LoggedReadAdminMixin, RecordAdmin):
    # No names in the list: children's data is shown on the pages, to roles that need it.
    list_display = ("pk", "group", "village", "enrolled_on", "left_on")
    list_select_related = ("village", "pillar", "group")

    def logged_read(self, obj):
        return (SensitiveAccess.Kind.CHILD_RECORD, obj.child)


@admin.register(Cooperative)
class CooperativeAdmin(RecordAdmin):
    list_display = ("name", "type", "state", "village", "deleted_at")
    list_filter = ("type", "state")
    search_fields = ("name", "legal_number")


@admin.register(CooperativeMember)
class CooperativeMemberAdmin(RecordAdmin):
    list_display = ("pk", "cooperative", "village", "joined_on", "left_on")
    list_select_related = ("village", "pillar", "cooperative")


@admin.register(CooperativePeriod)
class CooperativePeriodAdmin(RecordAdmin):
    list_display = ("period", "cooperative", "village", "capital", "loans_outstanding")
    list_select_related = ("village", "pillar", "cooperative")


@admin.register(Activity)
class ActivityAdmin(RecordAdmin):
    list_display = ("date", "title", "pillar", "village", "participants")
    list_filter = ("pillar",)
    search_fields = ("title",)


@admin.register(Referral)
class ReferralAdmin(RecordAdmin):
    list_display = ("pk", "programme", "stage", "village", "referred_on", "amount_disbursed")
    list_select_related = ("village", "pillar", "programme")
    list_filter = ("stage", "programme")


class CaseStepInline(admin.TabularInline):
    model = CaseStep
    fields = ("date", "action", "by")
    extra = 0

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.VIEW_CASES)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(RecordAdmin):
    list_display = ("pk", "case_type", "channel", "resolution", "village", "reported_on")
    list_filter = ("case_type", "resolution", "channel")
    inlines = [CaseStepInline]


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    write_action = None
    list_display = ("village", "month", "state", "submitted_at", "verified_at")
    list_filter = ("state", "month")
    list_select_related = ("village",)
    search_fields = ("village__name", "village__code")


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    write_action = None
    list_display = ("at", "actor", "village_id", "model", "object_id", "action")
    list_filter = ("action", "model")
    list_select_related = ("actor",)
    search_fields = ("object_id",)
    show_full_result_count = False

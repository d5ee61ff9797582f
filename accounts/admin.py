from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountEvent, Role, User
from accounts.permissions import Action, can
from accounts.reauth import require_reauthentication


class ScopedAdminMixin:
    """The admin shows the rows of `Model.objects.for_user`, like every other page.

    Reading needs the admin role (coordinators, ministry administrators); writing needs
    `write_action`, which only the ministry has unless a model says otherwise.
    """

    write_action: Action | None = Action.MANAGE_DESIGNATIONS

    def get_queryset(self, request):
        return self.model._default_manager.get_queryset().for_user(request.user)

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.USE_ADMIN)

    def _can_write(self, request) -> bool:
        return self.write_action is not None and can(request.user, self.write_action)

    def has_add_permission(self, request) -> bool:
        return self._can_write(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_write(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_write(request)

    # Deleting, one row or a selection, asks for the password again (accounts.reauth).
    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and self.has_delete_permission(request):
            require_reauthentication(request)
        return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if (
            request.method == "POST"
            and request.POST.get("action") == "delete_selected"
            and self.has_delete_permission(request)
        ):
            require_reauthentication(request)
        return super().changelist_view(request, extra_context)


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    write_action = None  # accounts are created through the invite page, which e-mails a link
    list_display = ("username", "display_name", "email", "role", "scope", "is_active")
    list_filter = ("role", "is_active")
    list_select_related = ("scope",)
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("scope",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ("role", "scope", "phone")}),
    )

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or (
            request.user.role == Role.MINISTRY_ADMIN and can(request.user, Action.MANAGE_USERS)
        )

    # Changing a role, a scope, an account's state or password asks for the password again.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and self.has_change_permission(request):
            require_reauthentication(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request, id, form_url=""):
        if request.method == "POST" and self.has_change_permission(request):
            require_reauthentication(request)
        return super().user_change_password(request, id, form_url)


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "user", "kind")
    list_filter = ("kind",)
    list_select_related = ("actor", "user")

    def get_queryset(self, request):
        visible = User.objects.for_user(request.user).values("pk")
        return super().get_queryset(request).filter(user__in=visible)

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

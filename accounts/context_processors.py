from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import Action, can


def navigation(request) -> dict:
    """The menu a role sees: only what it may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    if user.role in (Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD) and user.scope_id:
        items.append((_("My village"), reverse("villages:detail", args=[user.scope_id])))
    elif can(user, Action.VIEW_VILLAGES):
        items.append((_("Desmigratif villages"), reverse("villages:list")))
    if can(user, Action.VIEW_PILLARS):
        items.append((_("Dashboard"), reverse("dashboards:national")))
    if can(user, Action.VIEW_REGISTER):
        items.append((_("Register"), reverse("migrants:register")))
    if can(user, Action.IMPORT_REGISTER):
        items.append((_("Imports"), reverse("migrants:import-list")))
    if can(user, Action.VIEW_PILLARS):
        items.append((_("Pillars"), reverse("pillars:overview")))
        items.append((_("Monthly reports"), reverse("pillars:report-list")))
        items.append((_("Report files"), reverse("reports:list")))
    if can(user, Action.VERIFY_REGISTER):
        items.append((_("Verification"), reverse("migrants:verification")))
    if can(user, Action.MERGE_DUPLICATES):
        items.append((_("Duplicates"), reverse("migrants:duplicates")))
    if can(user, Action.RESTORE_DELETED):
        items.append((_("Deleted"), reverse("migrants:deleted")))
    if can(user, Action.MANAGE_USERS):
        items.append((_("Users"), reverse("accounts:list")))
    from migrants.privacy import may_use_privacy_pages

    if may_use_privacy_pages(user):
        items.append((_("Personal data"), reverse("privacy:home")))
    if can(user, Action.USE_ADMIN) and user.is_staff:
        items.append((_("Administration"), reverse("admin:index")))
    # The longest menu address that starts the current path is the current page.
    matches = [url for _label, url in items if request.path.startswith(url)]
    current = max(matches, key=len, default=None)
    return {
        "nav_items": [
            {"label": label, "url": url, "current": url == current} for label, url in items
        ]
    }

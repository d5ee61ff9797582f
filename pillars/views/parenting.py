"""Pillar 3, community parenting: groups (Rumah Belajar), their sessions and the children
enrolled in them.

Children's data is for the roles that work with the village's people (Action.VIEW_CHILDREN):
the enrolment pages refuse the others, and a group's page shows them its sessions only.
"""

from django.db.models import Count, F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action, can
from migrants.models import SensitiveAccess
from pillars.models import ChildEnrolment, ParentingGroup, ParentingSession, PillarKind
from pillars.views.parts import PartForm, PartRegister
from pillars.views.records import RecordForm, Register

# How many of a group's sessions and children its page lists (the registers have them all).
SHOWN = 50


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


class GroupForm(RecordForm):
    class Meta:
        model = ParentingGroup
        fields = ["name", "facilitators", "meeting_place", "founded_on", "active"]


class SessionForm(PartForm):
    parent_field = "group"

    class Meta:
        model = ParentingSession
        fields = ["group", "date", "topic", "children_attending", "adults_attending", "notes"]


class EnrolmentForm(PartForm):
    parent_field = "group"
    child_fields = ("child",)

    class Meta:
        model = ChildEnrolment
        fields = ["group", "child", "enrolled_on", "left_on"]

    def clean(self) -> dict:
        cleaned = super().clean()
        group, child = cleaned.get("group"), cleaned.get("child")
        if group and child and self.duplicate_of(group=group, child=child):
            self.add_error("child", _("This child is already enrolled in this group."))
        self.check_dates_in_order("enrolled_on", "left_on")
        return cleaned


def group_more(request: HttpRequest, group: ParentingGroup) -> dict:
    """A group's sessions and, for the roles that may see children, its children."""
    user = request.user
    sessions = ParentingSession.objects.for_user(user).alive().filter(group=group)
    context = {
        "sessions": list(sessions[:SHOWN]),
        "session_count": sessions.count(),
        "shows_children": can(user, Action.VIEW_CHILDREN),
        "shown": SHOWN,
    }
    if context["shows_children"]:
        enrolments = child.queryset(user).filter(group=group).select_related("child")
        # Those still in the group first.
        context["enrolments"] = list(
            enrolments.order_by(F("left_on").desc(nulls_first=True), "child__full_name", "pk")[
                :SHOWN
            ]
        )
        context["enrolment_counts"] = enrolments.aggregate(
            total=Count("pk"),
            now=Count("pk", filter=Q(left_on__isnull=True) | Q(left_on__gt=timezone.localdate())),
        )
    return context


group = Register(
    slug="group",
    model=ParentingGroup,
    form=GroupForm,
    title=_("Parenting groups"),
    singular=_("parenting group"),
    kind=PillarKind.PARENTING,
    columns=[
        (_("Name"), "name"),
        (_("Facilitators"), "facilitators"),
        (_("Meeting place"), "meeting_place"),
        (_("Active"), lambda row: yes_no(row.active)),
    ],
    search_fields=("name", "facilitators", "meeting_place"),
    select_related=("pillar",),
    date_field="founded_on",
    detail_template="pillars/parenting/group_detail.html",
    detail_extra=group_more,
    filters=[("active", _("Active"), [("True", _("yes")), ("False", _("no"))])],
)

session = PartRegister(
    slug="session",
    model=ParentingSession,
    form=SessionForm,
    title=_("Parenting sessions"),
    singular=_("parenting session"),
    kind=PillarKind.PARENTING,
    columns=[
        (_("Topic"), "topic"),
        (_("Date"), "date"),
        (_("Group"), "group.name"),
        (_("Children"), "children_attending"),
        (_("Parents and carers"), "adults_attending"),
    ],
    search_fields=("topic", "group__name"),
    select_related=("pillar", "group"),
    parent=group,
    parent_field="group",
)

child = PartRegister(
    slug="child",
    model=ChildEnrolment,
    form=EnrolmentForm,
    title=_("Enrolled children"),
    singular=_("child enrolment"),
    kind=PillarKind.PARENTING,
    columns=[
        (_("Child"), "child.full_name"),
        (_("Group"), "group.name"),
        (_("Enrolled on"), "enrolled_on"),
        (_("Left on"), "left_on"),
    ],
    search_fields=("child__full_name", "group__name"),
    select_related=("pillar", "group", "child"),
    view_action=Action.VIEW_CHILDREN,
    date_field="enrolled_on",
    parent=group,
    parent_field="group",
    people_field="child",
    logged_read=(SensitiveAccess.Kind.CHILD_RECORD, "child"),
)

"""Pillar 1, the migration service centre: the service log, outreach events, cases."""

from django.utils.translation import gettext_lazy as _

from pillars.models import Outreach, PillarKind
from pillars.views.records import RecordForm, Register


class OutreachForm(RecordForm):
    class Meta:
        model = Outreach
        fields = ["date", "topic", "location", "attendees_male", "attendees_female", "notes"]


outreach = Register(
    slug="outreach",
    model=Outreach,
    form=OutreachForm,
    title=_("Outreach events"),
    singular=_("outreach event"),
    kind=PillarKind.SERVICE_CENTRE,
    columns=[
        (_("Topic"), "topic"),
        (_("Date"), "date"),
        (_("Men"), "attendees_male"),
        (_("Women"), "attendees_female"),
    ],
    search_fields=("topic", "location"),
)

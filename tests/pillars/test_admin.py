"""The programme in the admin: a ministry administrator adds a variant with its pillars (and
partners with their programmes) without a code change; a coordinator reads; nobody deletes.
Pillar records are read there, scoped, never written."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from pillars import services
from pillars.models import (
    AuditEntry,
    Outreach,
    Partner,
    PartnerProgramme,
    Pillar,
    PillarKind,
    ProgrammeVariant,
)
from tests.migrants.factories import ARJOWILANGUN, KENANGA

VARIANTS = reverse("admin:pillars_programmevariant_changelist")
ADD_VARIANT = reverse("admin:pillars_programmevariant_add")
ADD_PARTNER = reverse("admin:pillars_partner_add")
OUTREACH = reverse("admin:pillars_outreach_changelist")
AUDIT = reverse("admin:pillars_auditentry_changelist")


def desmigratif() -> ProgrammeVariant:
    return ProgrammeVariant.objects.get(code="desmigratif-4-pilar")


def change_variant(variant: ProgrammeVariant) -> str:
    return reverse("admin:pillars_programmevariant_change", args=[variant.pk])


def delete_variant(variant: ProgrammeVariant) -> str:
    return reverse("admin:pillars_programmevariant_delete", args=[variant.pk])


def variant_form(pillars: list[tuple[int, str, str, str]]) -> dict:
    data = {
        "code": "desa-migran-emas",
        "name": "Desa Migran Emas",
        "description": "Desmigratif diperluas (KP2MI, 2025).",
        "active": "on",
        "pillars-TOTAL_FORMS": str(len(pillars)),
        "pillars-INITIAL_FORMS": "0",
        "pillars-MIN_NUM_FORMS": "0",
        "pillars-MAX_NUM_FORMS": "1000",
    }
    for i, (order, code, name, kind) in enumerate(pillars):
        data |= {
            f"pillars-{i}-order": str(order),
            f"pillars-{i}-code": code,
            f"pillars-{i}-name": name,
            f"pillars-{i}-kind": kind,
            f"pillars-{i}-description": "",
            f"pillars-{i}-active": "on",
        }
    return data


FIVE_PILLARS = [
    (1, "layanan", "Layanan Migrasi", PillarKind.SERVICE_CENTRE),
    (2, "usaha", "Usaha Produktif", PillarKind.ENTERPRISE),
    (3, "keluarga", "Komunitas Keluarga", PillarKind.PARENTING),
    (4, "koperasi", "Koperasi", PillarKind.COOPERATIVE),
    (5, "pelindungan-sosial", "Pelindungan Sosial", PillarKind.OTHER),
]


@pytest.fixture
def ministry_staff(world) -> Client:
    """A ministry administrator who is not a superuser: the role alone must be enough."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = User(username="ministry_staff", role=Role.MINISTRY_ADMIN, is_staff=True)
    user.set_password("x")
    user.save()
    TOTP.activate(user, generate_totp_secret())  # the role needs MFA (issue 7)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("persona", ["ministry_admin", "ministry_staff"])
def test_a_ministry_administrator_adds_a_variant_with_its_pillars(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(ADD_VARIANT).status_code == 200

    response = client.post(ADD_VARIANT, variant_form(FIVE_PILLARS))

    assert response.status_code == 302, response.context and response.context["errors"]
    variant = ProgrammeVariant.objects.get(code="desa-migran-emas")
    assert [(p.order, p.code, p.name, p.kind) for p in variant.pillars.order_by("order")] == [
        (o, c, n, str(k)) for o, c, n, k in FIVE_PILLARS
    ]


def test_pillar_codes_are_unique_within_a_variant(ministry_staff):
    pillars = [(1, "layanan", "A", PillarKind.SERVICE_CENTRE), (2, "layanan", "B", "other")]
    response = ministry_staff.post(ADD_VARIANT, variant_form(pillars))
    assert response.status_code == 200
    assert not ProgrammeVariant.objects.filter(code="desa-migran-emas").exists()


def test_a_ministry_administrator_deactivates_a_pillar(ministry_staff):
    variant = desmigratif()
    response = ministry_staff.get(change_variant(variant))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is True
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.can_delete is False


def test_a_coordinator_reads_variants_but_cannot_add_or_change(coordinator_malang):
    assert coordinator_malang.get(VARIANTS).status_code == 200
    assert coordinator_malang.get(ADD_VARIANT).status_code == 403
    response = coordinator_malang.post(ADD_VARIANT, variant_form(FIVE_PILLARS))
    assert response.status_code == 403
    assert not ProgrammeVariant.objects.filter(code="desa-migran-emas").exists()

    page = coordinator_malang.get(change_variant(desmigratif()))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    coordinator_malang.post(change_variant(desmigratif()), {"name": "Diubah"})
    assert desmigratif().name != "Diubah"


def test_a_coordinator_cannot_add_a_partner(coordinator_malang):
    assert coordinator_malang.get(ADD_PARTNER).status_code == 403


def test_a_ministry_administrator_adds_a_partner_with_a_programme(ministry_staff):
    response = ministry_staff.post(
        ADD_PARTNER,
        {
            "code": "bpjs",
            "name": "BPJS Ketenagakerjaan",
            "active": "on",
            "programmes-TOTAL_FORMS": "1",
            "programmes-INITIAL_FORMS": "0",
            "programmes-MIN_NUM_FORMS": "0",
            "programmes-MAX_NUM_FORMS": "1000",
            "programmes-0-code": "bpu",
            "programmes-0-name": "Bukan Penerima Upah",
            "programmes-0-description": "",
            "programmes-0-active": "on",
        },
    )
    assert response.status_code == 302
    assert PartnerProgramme.objects.get(code="bpu").partner.name == "BPJS Ketenagakerjaan"


@pytest.mark.parametrize("persona", ["ministry_admin", "ministry_staff", "coordinator_malang"])
def test_nobody_deletes_variants_pillars_or_partners(request, persona):
    client = request.getfixturevalue(persona)
    variant = desmigratif()
    pillar = variant.pillars.first()
    partner = Partner.objects.first()
    for url in (
        delete_variant(variant),
        reverse("admin:pillars_pillar_delete", args=[pillar.pk]),
        reverse("admin:pillars_partner_delete", args=[partner.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    response = client.post(
        VARIANTS, {"action": "delete_selected", "_selected_action": [variant.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302, 403)
    assert ProgrammeVariant.objects.filter(pk=variant.pk).exists()
    assert Pillar.objects.filter(pk=pillar.pk).exists()
    assert Partner.objects.filter(pk=partner.pk).exists()


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "evaluator"])
def test_officers_and_evaluators_have_no_programme_admin(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(VARIANTS).status_code in (302, 403)
    assert client.post(ADD_VARIANT, variant_form(FIVE_PILLARS)).status_code in (302, 403)
    assert not ProgrammeVariant.objects.filter(code="desa-migran-emas").exists()


# --- Records: read only, scoped ---------------------------------------------------------------


@pytest.fixture
def two_outreach(world) -> list[Outreach]:
    records = []
    for village in (ARJOWILANGUN, KENANGA):
        record = Outreach(
            village_id=village, date=timezone.localdate(), topic=f"Sosialisasi {village}"
        )
        services.record_create(
            actor=world["admin"], instance=record, kind=PillarKind.SERVICE_CENTRE
        )
        records.append(record)
    return records


def test_a_coordinator_reads_the_regencys_records_only(coordinator_malang, two_outreach):
    response = coordinator_malang.get(OUTREACH)
    assert response.status_code == 200
    assert [r.village_id for r in response.context["cl"].result_list] == [ARJOWILANGUN]
    assert response.context["has_add_permission"] is False
    kenanga = reverse("admin:pillars_outreach_change", args=[two_outreach[1].pk])
    assert coordinator_malang.get(kenanga).status_code == 302  # "does not exist"


def test_nobody_writes_records_in_the_admin(ministry_admin, two_outreach):
    record = two_outreach[0]
    change = reverse("admin:pillars_outreach_change", args=[record.pk])
    page = ministry_admin.get(change)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    ministry_admin.post(change, {"topic": "Diubah"})
    assert ministry_admin.get(reverse("admin:pillars_outreach_add")).status_code == 403
    delete = reverse("admin:pillars_outreach_delete", args=[record.pk])
    assert ministry_admin.post(delete, {"post": "yes"}).status_code == 403
    record.refresh_from_db()
    assert (record.topic, record.deleted_at) == (f"Sosialisasi {ARJOWILANGUN}", None)


def test_the_audit_trail_is_read_only_and_scoped(coordinator_malang, ministry_admin, two_outreach):
    response = coordinator_malang.get(AUDIT)
    assert {e.village_id for e in response.context["cl"].result_list} == {ARJOWILANGUN}
    entry = AuditEntry.objects.get(village_id=ARJOWILANGUN)
    change = reverse("admin:pillars_auditentry_change", args=[entry.pk])
    assert ministry_admin.get(change).context["has_change_permission"] is False
    assert (
        ministry_admin.post(
            reverse("admin:pillars_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "model",
    [
        "servicelog",
        "outreach",
        "enterprise",
        "training",
        "parentinggroup",
        "parentingsession",
        "childenrolment",
        "cooperative",
        "cooperativemember",
        "cooperativeperiod",
        "activity",
        "referral",
        "case",
        "monthlyreport",
        "auditentry",
        "pillar",
        "partnerprogramme",
    ],
)
def test_every_admin_list_opens_for_the_coordinator(coordinator_malang, model):
    assert coordinator_malang.get(reverse(f"admin:pillars_{model}_changelist")).status_code == 200


def test_the_record_lists_in_the_admin_cost_the_same_queries_with_more_rows(
    coordinator_malang, world, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        for i in range(n):
            record = Outreach(village_id=ARJOWILANGUN, date=timezone.localdate(), topic=f"S{i}")
            services.record_create(
                actor=world["admin"], instance=record, kind=PillarKind.SERVICE_CENTRE
            )

    add(1)
    with CaptureQueriesContext(connection) as one:
        coordinator_malang.get(OUTREACH)
        coordinator_malang.get(AUDIT)
    add(10)
    with django_assert_num_queries(len(one.captured_queries)):
        coordinator_malang.get(OUTREACH)
        coordinator_malang.get(AUDIT)

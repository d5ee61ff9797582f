"""Referrals to partner programmes: the register, the stages a referral moves through, and the
partners page's totals per programme and per village, each user seeing only the scope."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from migrants.models import Person
from pillars import services
from pillars.models import AuditEntry, PartnerProgramme, PillarKind, Referral
from pillars.views.enterprise import move_referral
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    child_birth_date,
    register,
)
from tests.pillars.test_enterprise import an_enterprise, in_english, purna

LOGIN = reverse("account_login")
PARTNERS = reverse("pillars:partners")
TODAY = timezone.localdate()
REFERRED = TODAY - datetime.timedelta(days=60)
ACCEPTED = TODAY - datetime.timedelta(days=30)
PAID = TODAY - datetime.timedelta(days=10)

STAGE = Referral.Stage


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def programme(code: str) -> PartnerProgramme:
    return PartnerProgramme.objects.get(code=code)


def a_referral(
    actor: User,
    *,
    person: Person | None = None,
    enterprise=None,
    code: str = "pnm-mekaar",
    on: datetime.date = REFERRED,
    requested: int | None = 5_000_000,
) -> Referral:
    village = (person or enterprise).village_id
    referral = Referral(
        village_id=village,
        programme=programme(code),
        person=person,
        enterprise=enterprise,
        referred_on=on,
        amount_requested=requested,
    )
    services.record_create(actor=actor, instance=referral, kind=PillarKind.ENTERPRISE)
    return referral


def stored(referral: Referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)


@pytest.fixture
def officer(world) -> User:
    return world["officer_arjowilangun"]


@pytest.fixture
def sri(officer) -> Person:
    return purna(officer, full_name="Sri Wahyuni")


@pytest.fixture
def mekaar(officer, sri) -> Referral:
    """Sri, referred to PNM Mekaar sixty days ago."""
    return a_referral(officer, person=sri)


def referral_form(**overrides) -> dict:
    return {
        "programme": str(programme("pnm-mekaar").pk),
        "person": "",
        "enterprise": "",
        "referred_on": REFERRED.isoformat(),
        "amount_requested": "5000000",
        "notes": "",
        **overrides,
    }


# --- Every page: anonymous -> login, outside the scope -> 404, without the action -> 403 ------

# url name: (HTTP method, whether the URL names a referral, whether it writes)
PAGES = {
    "referral-list": ("get", False, False),
    "referral-create": ("get", False, True),
    "referral-detail": ("get", True, False),
    "referral-edit": ("get", True, True),
    "referral-delete": ("post", True, True),
    "referral-move": ("post", True, True),
    "partners": ("get", False, False),
}


def open_page(client: Client, page: str, referral: Referral):
    method, named, _writes = PAGES[page]
    data = None
    if page == "referral-delete":
        data = {"reason": "salah input"}
    elif page == "referral-move":
        data = {"stage": "accepted", "accepted-date": ACCEPTED.isoformat()}
    return getattr(client, method)(url(page, *([referral.pk] if named else [])), data)


def test_every_url_of_the_pillar_is_in_a_permission_table():
    from pillars import urls_enterprise
    from tests.pillars import test_enterprise

    names = set()
    for pattern in urls_enterprise.urlpatterns:
        inner = getattr(pattern, "url_patterns", [pattern])
        names |= {p.name for p in inner}
    register_pages = {
        f"{register}-{page}"
        for register in test_enterprise.REGISTERS
        for page in test_enterprise.PAGES
    }
    assert names == register_pages | set(PAGES)


@pytest.fixture
def no_role(world) -> Client:
    client = Client()
    client.force_login(User.objects.create_user(username="no_role", password="x-password-123"))
    return client


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(anonymous, mekaar, page):
    response = open_page(anonymous, page, mekaar)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert stored(mekaar).stage == STAGE.REFERRED


@pytest.mark.parametrize("page", PAGES)
def test_the_officer_opens_every_page_of_the_own_village(officer_arjowilangun, mekaar, page):
    response = open_page(officer_arjowilangun, page, mekaar)
    assert response.status_code == (302 if page in ("referral-delete", "referral-move") else 200)


@pytest.mark.parametrize("page", [p for p, (_m, named, _w) in PAGES.items() if named])
@pytest.mark.parametrize(
    "persona", ["officer_brongkal", "officer_kenanga", "coordinator_indramayu"]
)
def test_a_referral_of_another_village_is_not_found(request, mekaar, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, page, mekaar).status_code == 404
    assert stored(mekaar).stage == STAGE.REFERRED


@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if writes])
@pytest.mark.parametrize("persona", ["head_arjowilangun", "evaluator", "province_jatim"])
def test_read_only_roles_may_not_open_a_write_page(request, mekaar, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, page, mekaar).status_code == 403
    assert stored(mekaar).stage == STAGE.REFERRED


@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if not writes])
@pytest.mark.parametrize(
    "persona", ["head_arjowilangun", "coordinator_malang", "province_jatim", "evaluator"]
)
def test_readers_in_scope_read_referrals_and_partners(request, mekaar, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, page, mekaar).status_code == 200


@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if not writes])
def test_an_account_without_a_role_may_not_read(no_role, mekaar, page):
    assert open_page(no_role, page, mekaar).status_code == 403


# --- The register ----------------------------------------------------------------------------


def test_the_officer_refers_a_person_tagged_with_the_enterprise_pillar(officer_arjowilangun, sri):
    response = officer_arjowilangun.post(url("referral-create"), referral_form(person=sri.pk))

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response.url == url("referral-detail", referral.pk)
    assert referral.person == sri
    assert referral.stage == STAGE.REFERRED
    assert referral.village_id == ARJOWILANGUN
    assert referral.pillar.kind == PillarKind.ENTERPRISE


def test_the_officer_refers_an_enterprise(officer_arjowilangun, officer, sri):
    warung = an_enterprise(officer, sri)

    response = officer_arjowilangun.post(
        url("referral-create"),
        referral_form(enterprise=warung.pk, programme=programme("kur-bni").pk),
    )

    assert response.status_code == 302
    assert Referral.objects.get().enterprise == warung


def test_a_referral_names_someone(officer_arjowilangun):
    response = in_english(officer_arjowilangun).post(url("referral-create"), referral_form())

    assert response.status_code == 200
    assert response.context["form"].errors["person"] == [
        "Choose the person or the enterprise referred."
    ]
    assert response.context["form"].non_field_errors() == []
    assert not Referral.objects.exists()


def test_a_person_from_another_village_is_refused(officer_arjowilangun, world):
    neighbour = purna(world["officer_brongkal"], village=BRONGKAL)

    response = officer_arjowilangun.post(url("referral-create"), referral_form(person=neighbour.pk))

    assert response.status_code == 200
    assert response.context["form"].errors["person"]
    assert not Referral.objects.exists()


def test_an_enterprise_from_another_village_is_refused(officer_arjowilangun, world, sri):
    brongkal = world["officer_brongkal"]
    neighbours = an_enterprise(brongkal, purna(brongkal, village=BRONGKAL))

    response = officer_arjowilangun.post(
        url("referral-create"), referral_form(person=sri.pk, enterprise=neighbours.pk)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["enterprise"]
    assert not Referral.objects.exists()


def test_children_are_not_offered_for_referral(officer_arjowilangun, officer, sri):
    child = register(actor=officer, full_name="Anak", birth_date=child_birth_date())

    people = officer_arjowilangun.get(url("referral-create")).context["form"].fields["person"]

    assert sri in people.queryset
    assert child not in people.queryset


def test_a_referral_cannot_be_dated_in_the_future(officer_arjowilangun, sri):
    tomorrow = TODAY + datetime.timedelta(days=1)
    response = officer_arjowilangun.post(
        url("referral-create"), referral_form(person=sri.pk, referred_on=tomorrow.isoformat())
    )
    assert response.status_code == 200
    assert response.context["form"].errors["referred_on"]


def test_editing_cannot_date_the_referral_after_its_acceptance(
    officer_arjowilangun, officer, mekaar
):
    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)
    later = ACCEPTED + datetime.timedelta(days=1)

    response = officer_arjowilangun.post(
        url("referral-edit", mekaar.pk),
        referral_form(person=mekaar.person_id, referred_on=later.isoformat()),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["referred_on"]
    assert stored(mekaar).referred_on == REFERRED


def test_referrals_are_filtered_by_stage_and_programme(officer_arjowilangun, officer, sri):
    a = a_referral(officer, person=sri, code="pnm-mekaar")
    b = a_referral(officer, person=sri, code="kartu-prakerja")
    move_referral(officer, b, STAGE.REJECTED, ACCEPTED)

    def shown(query: str) -> set[int]:
        page = officer_arjowilangun.get(url("referral-list") + query).context["page"]
        return {r.pk for r in page.object_list}

    assert shown("?stage=rejected") == {b.pk}
    assert shown(f"?programme={programme('pnm-mekaar').pk}") == {a.pk}
    assert shown("") == {a.pk, b.pk}


def test_the_referral_list_costs_the_same_queries_for_more_rows(
    coordinator_malang, officer, django_assert_max_num_queries
):
    # Session, user, designated villages, the programmes to filter by, the page of rows.
    def referred_enterprise() -> None:
        owner = purna(officer)
        a_referral(officer, enterprise=an_enterprise(officer, owner), person=owner)

    referred_enterprise()
    with django_assert_max_num_queries(5):
        assert coordinator_malang.get(url("referral-list")).status_code == 200

    for _ in range(8):
        referred_enterprise()
    with django_assert_max_num_queries(5):
        response = coordinator_malang.get(url("referral-list"))
    assert len(response.context["rows"]) == 9


# --- Stages ----------------------------------------------------------------------------------


def test_a_referral_is_accepted_then_disbursed(officer, mekaar):
    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)
    move_referral(officer, mekaar, STAGE.DISBURSED, PAID, Decimal(4_000_000))

    referral = stored(mekaar)
    assert referral.stage == STAGE.DISBURSED
    assert referral.accepted_on == ACCEPTED
    assert referral.disbursed_on == PAID
    assert referral.amount_disbursed == 4_000_000
    changes = [
        entry.changes
        for entry in AuditEntry.objects.filter(
            model="referral", object_id=str(mekaar.pk), action=AuditEntry.Action.UPDATED
        ).order_by("at", "id")
    ]
    assert changes[0]["stage"] == ["referred", "accepted"]
    assert changes[1]["stage"] == ["accepted", "disbursed"]
    assert changes[1]["amount_disbursed"] == ["", "4000000"]


@pytest.mark.parametrize("accepted_first", [False, True])
def test_a_referral_is_rejected_from_referred_or_accepted(officer, mekaar, accepted_first):
    if accepted_first:
        move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)
    move_referral(officer, mekaar, STAGE.REJECTED, PAID)

    referral = stored(mekaar)
    assert referral.stage == STAGE.REJECTED
    assert referral.rejected_on == PAID


def _at(officer, referral, stage: str) -> None:
    if stage in (STAGE.ACCEPTED, STAGE.DISBURSED):
        move_referral(officer, referral, STAGE.ACCEPTED, ACCEPTED)
    if stage == STAGE.DISBURSED:
        move_referral(officer, referral, STAGE.DISBURSED, PAID, Decimal(1))
    if stage == STAGE.REJECTED:
        move_referral(officer, referral, STAGE.REJECTED, ACCEPTED)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (STAGE.REFERRED, STAGE.DISBURSED),  # skipping acceptance
        (STAGE.REFERRED, STAGE.REFERRED),
        (STAGE.ACCEPTED, STAGE.REFERRED),  # going back
        (STAGE.ACCEPTED, STAGE.ACCEPTED),
        (STAGE.DISBURSED, STAGE.REJECTED),
        (STAGE.DISBURSED, STAGE.ACCEPTED),
        (STAGE.REJECTED, STAGE.ACCEPTED),
        (STAGE.REJECTED, STAGE.REFERRED),
        (STAGE.REFERRED, "paid"),
    ],
)
def test_a_referral_does_not_jump_or_go_back(officer, mekaar, start, target):
    _at(officer, mekaar, start)
    before = stored(mekaar)

    with pytest.raises(ValidationError) as error:
        move_referral(officer, mekaar, target, TODAY, Decimal(1) if target == "disbursed" else None)

    assert error.value.messages
    after = stored(mekaar)
    assert (after.stage, after.updated_at) == (before.stage, before.updated_at)


def test_the_messages_say_why(officer, mekaar):
    with translation.override("en"):
        with pytest.raises(ValidationError) as jump:
            move_referral(officer, mekaar, STAGE.DISBURSED, PAID, Decimal(1))
        assert jump.value.messages == ["A referral that is referred cannot become disbursed."]
        _at(officer, mekaar, STAGE.REJECTED)
        with pytest.raises(ValidationError) as final:
            move_referral(officer, mekaar, STAGE.ACCEPTED, PAID)
        assert final.value.messages == [
            "This referral is already rejected: its stage can no longer change."
        ]


def test_disbursement_needs_an_amount(officer, mekaar):
    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)

    for amount in (None, Decimal(0), Decimal(-5)):
        with pytest.raises(ValidationError) as error:
            move_referral(officer, mekaar, STAGE.DISBURSED, PAID, amount)
        assert "amount" in error.value.message_dict
    assert stored(mekaar).stage == STAGE.ACCEPTED


def test_only_a_disbursement_has_an_amount(officer, mekaar):
    with pytest.raises(ValidationError) as error:
        move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED, Decimal(100))
    assert "amount" in error.value.message_dict


@pytest.mark.parametrize(
    ("stage", "day"),
    [
        (STAGE.ACCEPTED, REFERRED - datetime.timedelta(days=1)),  # before the referral
        (STAGE.REJECTED, REFERRED - datetime.timedelta(days=1)),
        (STAGE.ACCEPTED, TODAY + datetime.timedelta(days=1)),  # in the future
        (STAGE.ACCEPTED, None),
    ],
)
def test_the_date_of_a_stage_is_checked(officer, mekaar, stage, day):
    with pytest.raises(ValidationError) as error:
        move_referral(officer, mekaar, stage, day)
    assert "date" in error.value.message_dict
    assert stored(mekaar).stage == STAGE.REFERRED


@pytest.mark.parametrize("stage", [STAGE.DISBURSED, STAGE.REJECTED])
def test_nothing_after_acceptance_is_dated_before_it(officer, mekaar, stage):
    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)
    with pytest.raises(ValidationError) as error:
        move_referral(
            officer,
            mekaar,
            stage,
            ACCEPTED - datetime.timedelta(days=1),
            Decimal(1) if stage == STAGE.DISBURSED else None,
        )
    assert "date" in error.value.message_dict


def test_same_day_steps_and_today_are_fine(officer, sri):
    referral = a_referral(officer, person=sri, on=TODAY)
    move_referral(officer, referral, STAGE.ACCEPTED, TODAY)
    move_referral(officer, referral, STAGE.DISBURSED, TODAY, Decimal(1_000_000))
    assert stored(referral).stage == STAGE.DISBURSED


@pytest.mark.parametrize("persona", ["head_arjowilangun", "officer_brongkal", "evaluator"])
def test_only_editors_of_the_village_move_a_referral(world, mekaar, persona):
    with pytest.raises(PermissionDenied):
        move_referral(world[persona], mekaar, STAGE.ACCEPTED, ACCEPTED)
    assert stored(mekaar).stage == STAGE.REFERRED


def test_a_deleted_referral_does_not_move(officer, mekaar):
    services.record_delete(actor=officer, instance=mekaar, reason="ganda")
    with pytest.raises(ValidationError):
        move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)


# --- Stages on the detail page ---------------------------------------------------------------


def test_the_detail_page_offers_the_next_stages_only(officer_arjowilangun, officer, mekaar):
    forms = officer_arjowilangun.get(url("referral-detail", mekaar.pk)).context["transition_forms"]
    assert [f.stage for f in forms] == ["accepted", "rejected"]

    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)
    forms = officer_arjowilangun.get(url("referral-detail", mekaar.pk)).context["transition_forms"]
    assert [f.stage for f in forms] == ["disbursed", "rejected"]
    assert forms[0].initial["amount"] == 5_000_000

    move_referral(officer, mekaar, STAGE.REJECTED, ACCEPTED)
    response = officer_arjowilangun.get(url("referral-detail", mekaar.pk))
    assert response.context["transition_forms"] == []


def test_readers_see_no_stage_forms(head_arjowilangun, mekaar):
    response = head_arjowilangun.get(url("referral-detail", mekaar.pk))
    assert response.context["transition_forms"] == []
    assert url("referral-move", mekaar.pk) not in response.content.decode()


def test_the_officer_moves_a_referral_through_the_page(officer_arjowilangun, mekaar):
    move = url("referral-move", mekaar.pk)

    accepted = officer_arjowilangun.post(
        move, {"stage": "accepted", "accepted-date": ACCEPTED.isoformat()}
    )
    paid = officer_arjowilangun.post(
        move,
        {"stage": "disbursed", "disbursed-date": PAID.isoformat(), "disbursed-amount": "4500000"},
    )

    assert accepted.status_code == paid.status_code == 302
    assert paid.url == url("referral-detail", mekaar.pk)
    referral = stored(mekaar)
    assert (referral.stage, referral.amount_disbursed) == (STAGE.DISBURSED, 4_500_000)


def test_a_missing_amount_is_shown_on_the_form(officer_arjowilangun, officer, mekaar):
    move_referral(officer, mekaar, STAGE.ACCEPTED, ACCEPTED)

    response = officer_arjowilangun.post(
        url("referral-move", mekaar.pk),
        {"stage": "disbursed", "disbursed-date": PAID.isoformat(), "disbursed-amount": ""},
    )

    assert response.status_code == 200
    [failed] = [f for f in response.context["transition_forms"] if f.stage == "disbursed"]
    assert failed.errors["amount"]
    assert 'id="id_disbursed-amount"' in response.content.decode()
    assert stored(mekaar).stage == STAGE.ACCEPTED


def test_a_date_error_from_the_rules_is_shown_on_the_form(officer_arjowilangun, mekaar):
    early = (REFERRED - datetime.timedelta(days=3)).isoformat()

    response = in_english(officer_arjowilangun).post(
        url("referral-move", mekaar.pk), {"stage": "accepted", "accepted-date": early}
    )

    assert response.status_code == 200
    [failed] = [f for f in response.context["transition_forms"] if f.stage == "accepted"]
    assert failed.errors["date"] == [
        f"The date cannot be before the referral ({REFERRED:%m/%d/%Y})."
    ]
    assert stored(mekaar).stage == STAGE.REFERRED


def test_a_jump_through_the_page_is_refused_with_the_reason(officer_arjowilangun, mekaar):
    response = in_english(officer_arjowilangun).post(
        url("referral-move", mekaar.pk),
        {"stage": "disbursed", "disbursed-date": PAID.isoformat(), "disbursed-amount": "10"},
        follow=True,
    )

    assert response.redirect_chain == [(url("referral-detail", mekaar.pk), 302)]
    assert "A referral that is referred cannot become disbursed." in response.content.decode()
    assert stored(mekaar).stage == STAGE.REFERRED


def test_an_unknown_stage_through_the_page_is_refused(officer_arjowilangun, mekaar):
    response = officer_arjowilangun.post(
        url("referral-move", mekaar.pk), {"stage": "referred", "referred-date": "2025-01-01"}
    )
    assert response.status_code == 302
    assert stored(mekaar).stage == STAGE.REFERRED


# --- Partners page: totals per programme and per village, scoped -----------------------------


@pytest.fixture
def referrals(world):
    """Malang: Arjowilangun 3 Mekaar (one disbursed 4 M, one accepted, one rejected) and 1 KUR
    BRI disbursed 20 M; Brongkal 1 Mekaar disbursed 3 M. Indramayu: Kenanga 2 Prakerja
    (one disbursed 3.5 M)."""
    arjo, brongkal, kenanga = (
        world["officer_arjowilangun"],
        world["officer_brongkal"],
        world["officer_kenanga"],
    )

    def made(actor, village, code, stage, amount=0):
        referral = a_referral(actor, person=purna(actor, village=village), code=code)
        if stage in (STAGE.ACCEPTED, STAGE.DISBURSED):
            move_referral(actor, referral, STAGE.ACCEPTED, ACCEPTED)
        if stage == STAGE.DISBURSED:
            move_referral(actor, referral, STAGE.DISBURSED, PAID, Decimal(amount))
        if stage == STAGE.REJECTED:
            move_referral(actor, referral, STAGE.REJECTED, ACCEPTED)
        return referral

    made(arjo, ARJOWILANGUN, "pnm-mekaar", STAGE.DISBURSED, 4_000_000)
    made(arjo, ARJOWILANGUN, "pnm-mekaar", STAGE.ACCEPTED)
    made(arjo, ARJOWILANGUN, "pnm-mekaar", STAGE.REJECTED)
    made(arjo, ARJOWILANGUN, "kur-bri", STAGE.DISBURSED, 20_000_000)
    made(brongkal, BRONGKAL, "pnm-mekaar", STAGE.DISBURSED, 3_000_000)
    made(kenanga, KENANGA, "kartu-prakerja", STAGE.DISBURSED, 3_500_000)
    made(kenanga, KENANGA, "kartu-prakerja", STAGE.REFERRED)
    deleted = made(arjo, ARJOWILANGUN, "pnm-mekaar", STAGE.DISBURSED, 9_000_000)
    services.record_delete(actor=arjo, instance=deleted, reason="ganda")


def programme_rows(response) -> dict[str, tuple]:
    """programme code -> (referred, accepted, disbursed, rejected, all, disbursed amount)."""
    return {
        row.programme.code: (*row.by_stage(), row.total, row.disbursed)
        for _partner, rows in response.context["partners"]
        for row in rows
        if row.total
    }


def village_rows(response) -> list[tuple]:
    return [
        (v.village, v.programme, v.referred, v.accepted, v.disbursed, v.amount)
        for v in response.context["villages"]
    ]


def test_the_coordinator_sees_the_regencys_totals(coordinator_malang, referrals):
    response = coordinator_malang.get(PARTNERS)

    assert programme_rows(response) == {
        "pnm-mekaar": (0, 1, 2, 1, 4, 7_000_000),
        "kur-bri": (0, 0, 1, 0, 1, 20_000_000),
    }
    assert village_rows(response) == [
        ("Arjowilangun", "KUR BRI", 1, 1, 1, 20_000_000),
        ("Arjowilangun", "PNM Mekaar", 3, 2, 1, 4_000_000),
        ("Brongkal", "PNM Mekaar", 1, 1, 1, 3_000_000),
    ]
    grand = response.context["grand"]
    assert grand["total"] == 5
    assert grand["disbursed"] == grand["village_amount"] == 27_000_000
    assert "27.000.000" in response.content.decode() or "27,000,000" in (response.content.decode())


def test_the_indramayu_coordinator_sees_none_of_malangs(coordinator_indramayu, referrals):
    response = coordinator_indramayu.get(PARTNERS)

    assert programme_rows(response) == {"kartu-prakerja": (1, 0, 1, 0, 2, 3_500_000)}
    assert village_rows(response) == [("Kenanga", "Kartu Prakerja", 2, 1, 1, 3_500_000)]
    content = response.content.decode()
    for malang in ("Arjowilangun", "Brongkal", "20.000.000", "20,000,000"):
        assert malang not in content


def test_a_village_officer_sees_the_own_village(officer_brongkal, referrals):
    response = officer_brongkal.get(PARTNERS)
    assert village_rows(response) == [("Brongkal", "PNM Mekaar", 1, 1, 1, 3_000_000)]
    assert response.context["grand"]["disbursed"] == 3_000_000


def test_the_ministry_sees_every_partner_and_programme(ministry_admin, referrals):
    response = ministry_admin.get(PARTNERS)

    partners = {partner.code for partner, _rows in response.context["partners"]}
    assert {"pnm", "bni", "bri", "bank-indonesia", "prakerja", "kemendes"} <= partners
    assert response.context["grand"]["total"] == 7
    assert response.context["grand"]["disbursed"] == 30_500_000


def test_the_partners_page_costs_the_same_queries_for_more_referrals(
    coordinator_malang, world, referrals, django_assert_max_num_queries
):
    # Session, user, partners, their programmes, two grouped queries of referrals.
    with django_assert_max_num_queries(6):
        assert coordinator_malang.get(PARTNERS).status_code == 200

    officer = world["officer_brongkal"]
    for code in ("kur-bni", "dana-desa", "bi-umkm", "kur-bri"):
        a_referral(officer, person=purna(officer, village=BRONGKAL), code=code)
    with django_assert_max_num_queries(6):
        response = coordinator_malang.get(PARTNERS)
    assert response.context["grand"]["total"] == 9
    assert len(response.context["villages"]) == 7

"""The access matrix: for every URL pattern of the project, who may GET and POST it, how its
arguments are built for an object inside and outside the persona's scope, and what the answer
must be.

Each row is keyed by the pattern's name with its namespaces (`migrants:detail`), or by its
route for the few unnamed patterns. test_access_matrix enumerates the URL resolver and fails on
any pattern without a row here (and on any row without a pattern), so a new URL is covered the
day it is added.

What the answers mean:
- allowed: 200 or 302 (a form shown or sent, a file, a redirect that is not to a login page);
- anonymous and deactivated: 302 to the sign-in page (the admin's for the admin; 401 for the
  API);
- a role that may not: 403 (the admin sends non-staff to its sign-in page);
- allowed, but the object is outside the persona's scope, or does not exist: 404 (the admin
  answers a missing object with a redirect to its index).

The personas are listed by name on purpose: this table is a second statement of the policy,
written from the issue and the domain rules, not derived from accounts.permissions.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

# --- Who ---------------------------------------------------------------------------------------

OFFICERS = frozenset({"officer_arjowilangun", "officer_kenanga"})
HEAD = frozenset({"head_arjowilangun"})
COORDINATORS = frozenset({"coordinator_malang", "coordinator_indramayu"})
PROVINCE = frozenset({"province_jatim"})
EVALUATOR = frozenset({"evaluator"})
MINISTRY = frozenset({"ministry_admin"})
NOBODY: frozenset[str] = frozenset()

SIGNED_IN = OFFICERS | HEAD | COORDINATORS | PROVINCE | EVALUATOR | MINISTRY
# Those who work with the village's own people: children's records and full NIKs on request.
VILLAGE_WORK = OFFICERS | HEAD | COORDINATORS | MINISTRY
# Those who write the register and the pillar records, and import them.
EDITORS = OFFICERS | COORDINATORS | MINISTRY
# Cases and complaints: those who handle them, not the head, province or evaluators.
CASE_HANDLERS = OFFICERS | COORDINATORS | MINISTRY
# Verify, restore, merge, transfer, undo an import, manage accounts, verify monthly reports.
REGENCY_WORK = COORDINATORS | MINISTRY
# The officer writes the village's monthly report (the ministry, as superuser, may too).
REPORT_WRITERS = OFFICERS | MINISTRY
# Regency recaps are subscribed to by those above a village.
SUBSCRIBERS = COORDINATORS | PROVINCE | EVALUATOR | MINISTRY
# Admin: staff with the admin role.
ADMIN_STAFF = COORDINATORS | MINISTRY
ANONYMOUS = frozenset({"anonymous", "deactivated_officer"})

# How a URL turns away those not signed in.
APP = "app"  # 302 to /accounts/login/
ADMIN = "admin"  # 302 to /admin/login/ (also for signed-in non-staff)
API = "api"  # 401 (token authentication)
PUBLIC = "public"  # no sign-in needed

Side = SimpleNamespace
Builder = Callable[[Side], dict]


@dataclass(frozen=True)
class Url:
    """One row of the matrix.

    get/post: the personas that may use the method; None when the view refuses the method
    (405), NOBODY when it takes it but nobody may.
    kwargs/query/data: the URL's arguments, query string and POST body for a side's objects;
    a row with any of them is checked with an object inside and outside the persona's scope.
    """

    get: frozenset[str] | None
    post: frozenset[str] | None
    kwargs: Builder | None = None
    query: Builder | None = None
    data: Builder | None = None
    login: str = APP
    # The answers that mean "allowed" (a form with errors is 200, a done action 302).
    ok: frozenset[int] = frozenset({200, 302})
    # The answer for an object outside the scope (or that does not exist).
    outside: int = 404
    # For national personas, whose "outside" object is one that does not exist.
    missing: int | None = None
    # The method is refused (405) before the sign-in is asked for (require_POST outermost).
    method_first: bool = False
    # The object is looked up before the role is checked: outside is 404 even for a role that
    # may not (no hint of what exists).
    scope_first: bool = False
    # Statuses allowed for a persona whatever the table says (allauth's pages answer the signed
    # in and the anonymous differently, and that is its business, not the scope's).
    any_of: frozenset[int] = field(default_factory=frozenset)
    # False when the arguments are the same on both sides (nothing to be inside or outside of).
    sided: bool = True

    def scoped_for(self, method: str) -> bool:
        """Whether the method's request differs inside and outside (a body is only sent by
        POST)."""
        if not self.sided:
            return False
        return bool(self.kwargs or self.query or (self.data and method == "POST"))


OK = frozenset({200, 302})
OK_200 = frozenset({200})
REDIRECT = frozenset({302})


def _pk(name: str) -> Builder:
    return lambda side: {"pk": getattr(side, name)}


def read(name: str, who=SIGNED_IN, post=None, **extra) -> Url:
    """A page of one object, read by `who` (POST is the same page unless told)."""
    return Url(get=who, post=who if post is None else post, kwargs=_pk(name), **extra)


def action(name: str, who, **extra) -> Url:
    """A POST-only action on one object (login_required outside require_POST)."""
    return Url(get=None, post=who, kwargs=_pk(name), **extra)


def page(who=SIGNED_IN, post="same", **extra) -> Url:
    """A page without an object."""
    return Url(get=who, post=who if post == "same" else post, **extra)


def _village(side: Side) -> dict:
    return {"village": side.village}


def register_urls(slug: str, obj: str, view, edit, *, create_view=None, create_query=None):
    """The five URLs of a pillar register (pillars.views.records.Register.urls)."""
    create_who = edit if create_view is None else create_view
    return {
        f"pillars:{slug}-list": page(view),
        # A national user may write for any village: an unknown one gets the form (the
        # service refuses to save it), a parent record that does not exist a 404.
        f"pillars:{slug}-create": Url(
            get=create_who,
            post=create_who,
            query=create_query or _village,
            missing=None if create_query else 200,
        ),
        f"pillars:{slug}-detail": read(obj, view),
        f"pillars:{slug}-edit": read(obj, edit),
        f"pillars:{slug}-delete": action(obj, edit),
    }


# --- The application's URLs --------------------------------------------------------------------

APPLICATION: dict[str, Url] = {
    "home": page(ok=REDIRECT),
    "health": Url(get=SIGNED_IN | ANONYMOUS, post=None, login=PUBLIC, ok=OK_200, method_first=True),
    "set_language": Url(get=SIGNED_IN | ANONYMOUS, post=SIGNED_IN | ANONYMOUS, login=PUBLIC),
    # --- villages
    "villages:list": page(),
    "villages:detail": Url(get=SIGNED_IN, post=SIGNED_IN, kwargs=lambda s: {"code": s.village}),
    # --- accounts
    "accounts:list": page(REGENCY_WORK),
    "accounts:create": page(REGENCY_WORK),
    "accounts:toggle-active": action("user", REGENCY_WORK, ok=REDIRECT),
    # --- the register
    "migrants:register": page(),
    "migrants:create": page(EDITORS),
    "migrants:submit-all": page(None, post=EDITORS, ok=REDIRECT),
    "migrants:verification": page(REGENCY_WORK),
    "migrants:duplicates": Url(
        get=REGENCY_WORK,
        post=REGENCY_WORK,
        # The pair is named in the POST body: outside the scope it does not exist.
        data=lambda s: {"first": s.twin, "second": s.person, "action": "dismiss"},
    ),
    "migrants:deleted": page(REGENCY_WORK),
    "migrants:import-list": page(EDITORS),
    "migrants:import": page(EDITORS),
    "migrants:import-template": page(EDITORS, ok=OK_200),
    "migrants:import-batch": read("import_batch", EDITORS),
    "migrants:import-confirm": action("import_batch", EDITORS, ok=REDIRECT),
    "migrants:import-cancel": action("import_batch", EDITORS, ok=REDIRECT),
    "migrants:import-undo": action("import_batch", REGENCY_WORK, ok=REDIRECT),
    "migrants:import-errors": read("import_batch", EDITORS, ok=OK_200),
    "migrants:import-original": read("import_batch", EDITORS, ok=OK_200),
    # Every role exports the register of its area (masked; full numbers on request, logged).
    "migrants:export": Url(
        get=SIGNED_IN, post=SIGNED_IN, data=lambda s: {"format": "xlsx"}, sided=False
    ),
    "migrants:detail": read("person"),
    "migrants:edit": read("person", EDITORS),
    "migrants:reveal": action("person", VILLAGE_WORK, ok=OK_200),
    "migrants:departure": read("person", EDITORS),
    "migrants:return": read("person", EDITORS),
    "migrants:episode-create": read("person", EDITORS),
    "migrants:episode-edit": Url(
        get=EDITORS,
        post=EDITORS,
        kwargs=lambda s: {"pk": s.person, "episode_pk": s.episode},
    ),
    "migrants:delete": read("person", EDITORS),
    "migrants:restore": action("deleted_person", REGENCY_WORK, ok=REDIRECT),
    "migrants:transfer": read("person", REGENCY_WORK),
    "migrants:submit": action("person", EDITORS, ok=REDIRECT),
    "migrants:send-back": read("person", REGENCY_WORK),
    # --- personal-data pages (UU 27/2022): access log, subject access, corrections
    "privacy:home": page(EDITORS),
    "privacy:access-log": page(MINISTRY),
    # The subject is named by a NIK in the body: outside the scope it is "no record in your
    # area", exactly as for a NIK nobody holds.
    "privacy:subject-access": Url(
        get=REGENCY_WORK,
        post=REGENCY_WORK,
        data=lambda s: {"nik": s.person_nik, "reason": "Matrix: the subject asked"},
        outside=200,
    ),
    "privacy:corrections": page(EDITORS),
    "privacy:correction-create": Url(
        get=EDITORS, post=EDITORS, kwargs=lambda s: {"person_pk": s.person}
    ),
    "privacy:correction-detail": read("correction", EDITORS),
    "privacy:correction-close": action("correction", EDITORS, ok=OK),
    # --- pillars: overview, activities of other pillars, monthly reports
    "pillars:overview": page(),
    **register_urls("activity", "activity", SIGNED_IN, EDITORS),
    "pillars:report-list": page(),
    "pillars:report-write": Url(get=REPORT_WRITERS, post=REPORT_WRITERS, query=_village),
    "pillars:report-queue": page(REGENCY_WORK),
    "pillars:report-missing": page(),
    "pillars:report-detail": read("report"),
    "pillars:report-review": action("report", REGENCY_WORK, ok=OK_200),
    # --- pillar 1: service log, outreach, cases
    **register_urls("service", "service", SIGNED_IN, EDITORS),
    **register_urls("outreach", "outreach", SIGNED_IN, EDITORS),
    **register_urls("case", "case", CASE_HANDLERS, CASE_HANDLERS),
    "pillars:case-step-add": read("case", CASE_HANDLERS),
    # --- pillar 2: enterprises, trainings, partners, referrals
    **register_urls("enterprise", "enterprise", SIGNED_IN, EDITORS),
    **register_urls("training", "training", SIGNED_IN, EDITORS),
    "pillars:partners": page(),
    **register_urls("referral", "referral", SIGNED_IN, EDITORS),
    "pillars:referral-move": action("referral", EDITORS, ok=REDIRECT),
    # --- pillar 3: parenting groups, sessions, enrolled children (children: VILLAGE_WORK)
    **register_urls(
        "group",
        "group",
        SIGNED_IN,
        EDITORS,
    ),
    **register_urls(
        "session",
        "session",
        SIGNED_IN,
        EDITORS,
        create_query=lambda s: {"group": s.group},
    ),
    **register_urls(
        "child",
        "child",
        VILLAGE_WORK,
        EDITORS,
        create_view=VILLAGE_WORK & EDITORS,
        create_query=lambda s: {"group": s.group},
    ),
    # --- pillar 4: cooperatives, members, monthly figures
    **register_urls("cooperative", "cooperative", SIGNED_IN, EDITORS),
    **register_urls(
        "member",
        "member",
        SIGNED_IN,
        EDITORS,
        create_query=lambda s: {"cooperative": s.cooperative},
    ),
    **register_urls(
        "figures",
        "figures",
        SIGNED_IN,
        EDITORS,
        create_query=lambda s: {"cooperative": s.cooperative},
    ),
    # --- pillar imports
    "pillars:import-list": page(EDITORS),
    "pillars:import": page(EDITORS),
    "pillars:import-template": Url(
        get=EDITORS,
        post=EDITORS,
        kwargs=lambda s: {"target": "enterprises"},
        query=_village,
        ok=OK_200,
        missing=200,  # a national user's template for any village code: only the sheet
    ),
    "pillars:import-batch": read("pillar_import", EDITORS),
    "pillars:import-confirm": action("pillar_import", EDITORS, ok=REDIRECT),
    "pillars:import-cancel": action("pillar_import", EDITORS, ok=REDIRECT),
    "pillars:import-errors": read("pillar_import", EDITORS),
    "pillars:import-original": read("pillar_import", EDITORS, ok=OK_200),
    # --- dashboards
    "dashboards:national": page(),
    "dashboards:refresh": page(None, post=SIGNED_IN, ok=REDIRECT),
    "dashboards:data": Url(
        get=SIGNED_IN,
        post=SIGNED_IN,
        kwargs=lambda s: {"chart": "status", "fmt": "csv"},
        query=lambda s: {"region": s.village},
        ok=OK_200,
    ),
    "dashboards:region": Url(
        get=SIGNED_IN, post=SIGNED_IN, kwargs=lambda s: {"code": s.village}, ok=OK_200
    ),
    # --- report jobs
    "reports:list": page(),
    "reports:request": page(),
    "reports:detail": read("job"),
    "reports:download": read("job", ok=OK_200),
    "reports:retry": action("job", SIGNED_IN, ok=REDIRECT, method_first=True),
    "subscriptions:list": page(SUBSCRIBERS),
    # --- API tokens, on the website
    "tokens:list": page(),
    # The token is named in the body: the persona's own inside, another's outside.
    "tokens:revoke": Url(get=None, post=SIGNED_IN, data=lambda s: {"token": s.token}, ok=REDIRECT),
    # --- the API (token authentication)
    "api:village-list": Url(get=SIGNED_IN, post=None, login=API, ok=OK_200),
    "api:village-detail": Url(
        get=SIGNED_IN, post=None, login=API, ok=OK_200, kwargs=lambda s: {"code": s.village}
    ),
    "api:indicators": Url(
        get=SIGNED_IN,
        post=None,
        login=API,
        ok=OK_200,
        query=lambda s: {"region": s.village},
    ),
    "api:report-list": Url(
        get=SIGNED_IN,
        post=SIGNED_IN,
        login=API,
        ok=frozenset({200, 202}),
        data=lambda s: {"kind": "register", "format": "xlsx", "region": s.village},
        # The country's own area does not exist under another code: the request is refused.
        missing=400,
    ),
    "api:report-detail": Url(get=SIGNED_IN, post=None, login=API, ok=OK_200, kwargs=_pk("job")),
    "api:report-download": Url(get=SIGNED_IN, post=None, login=API, ok=OK_200, kwargs=_pk("job")),
    # The schema and its docs describe the endpoints, no data: open to all.
    "api:schema": Url(get=SIGNED_IN | ANONYMOUS, post=None, login=PUBLIC, ok=OK_200),
    "api:docs": Url(get=SIGNED_IN | ANONYMOUS, post=None, login=PUBLIC, ok=OK_200),
}

# --- allauth --------------------------------------------------------------------------------
# Sign-in, password and MFA pages are the authentication work's (tests/security/test_auth.py);
# here they only must not fail, and must not show anyone's data. Their answers depend on being
# signed in or not (a signed-in user is sent on from the sign-in page, an anonymous one to it).

_ALLAUTH_ANSWERS = frozenset({200, 302, 400, 403, 404, 405})


def _allauth(**extra) -> Url:
    return Url(
        get=SIGNED_IN | ANONYMOUS,
        post=SIGNED_IN | ANONYMOUS,
        login=PUBLIC,
        any_of=_ALLAUTH_ANSWERS,
        sided=False,
        **extra,
    )


ALLAUTH: dict[str, Url] = {
    name: _allauth()
    for name in (
        "account_login",
        "account_logout",
        "account_inactive",
        "account_signup",
        "account_reauthenticate",
        "account_email",
        "account_email_verification_sent",
        "account_change_password",
        "account_set_password",
        "account_reset_password",
        "account_confirm_login_code",
        # allauth 65.22: re-authentication by an e-mailed code (off here: login by code is).
        "account_request_reauthentication_code",
        "account_confirm_reauthentication_code",
        "account_reset_password_from_key_done",
        "account_reset_password_done",
        "mfa_index",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "usersessions_list",
    )
}
ALLAUTH["account_confirm_email"] = _allauth(kwargs=lambda s: {"key": "matrix-no-such-key"})
ALLAUTH["account_reset_password_from_key"] = _allauth(
    kwargs=lambda s: {"uidb36": "zz", "key": "matrix-no-such-key"}
)


# --- The Django admin --------------------------------------------------------------------------
# Each registered model is named with how its admin may be used and which side object its
# change, history and delete pages are checked with; its URLs are made from that. A model
# registered tomorrow has no row: the test fails until it gets one.


@dataclass(frozen=True)
class AdminModel:
    kind: str  # read, designation, users, programme, staff, superuser
    obj: str | None = None  # the side attribute of a scoped object; None: `fixed`
    fixed: Callable[[], object] | None = None  # an unscoped object's pk


def _first_pk(model_path: str) -> Callable[[], object]:
    def pk() -> object:
        from django.apps import apps

        return apps.get_model(model_path).objects.order_by("pk").values_list("pk", flat=True)[0]

    return pk


NO_OBJECT = lambda: 987654  # noqa: E731 (a third-party model's row that does not exist)

ADMIN_MODELS: dict[str, AdminModel] = {
    # Django's and the libraries' own: the ministry's superuser only.
    "auth_group": AdminModel("superuser", fixed=NO_OBJECT),
    "account_emailaddress": AdminModel("superuser", fixed=NO_OBJECT),
    "mfa_authenticator": AdminModel("superuser", fixed=NO_OBJECT),
    "knox_authtoken": AdminModel("superuser", fixed=NO_OBJECT),
    "usersessions_usersession": AdminModel("superuser", fixed=NO_OBJECT),
    "django_celery_beat_periodictask": AdminModel("superuser", fixed=NO_OBJECT),
    "django_celery_beat_clockedschedule": AdminModel("superuser", fixed=NO_OBJECT),
    "django_celery_beat_crontabschedule": AdminModel("superuser", fixed=NO_OBJECT),
    "django_celery_beat_solarschedule": AdminModel("superuser", fixed=NO_OBJECT),
    "django_celery_beat_intervalschedule": AdminModel("superuser", fixed=NO_OBJECT),
    # Accounts and regions.
    "accounts_user": AdminModel("users", obj="user"),
    "accounts_accountevent": AdminModel("read", obj="account_event"),
    "villages_region": AdminModel("read", obj="region"),
    "villages_regionedition": AdminModel("staff", fixed=_first_pk("villages.RegionEdition")),
    "villages_designation": AdminModel("designation", obj="designation"),
    # The register, read only.
    "migrants_person": AdminModel("read", obj="person"),
    "migrants_personhistory": AdminModel("read", obj="history"),
    # The programme's configuration.
    "pillars_programmevariant": AdminModel(
        "programme", fixed=_first_pk("pillars.ProgrammeVariant")
    ),
    "pillars_pillar": AdminModel("programme", fixed=_first_pk("pillars.Pillar")),
    "pillars_partner": AdminModel("programme", fixed=_first_pk("pillars.Partner")),
    "pillars_partnerprogramme": AdminModel(
        "programme", fixed=_first_pk("pillars.PartnerProgramme")
    ),
    # Pillar records, read only and scoped.
    "pillars_servicelog": AdminModel("read", obj="service"),
    "pillars_outreach": AdminModel("read", obj="outreach"),
    "pillars_enterprise": AdminModel("read", obj="enterprise"),
    "pillars_training": AdminModel("read", obj="training"),
    "pillars_parentinggroup": AdminModel("read", obj="group"),
    "pillars_parentingsession": AdminModel("read", obj="session"),
    "pillars_childenrolment": AdminModel("read", obj="child"),
    "pillars_cooperative": AdminModel("read", obj="cooperative"),
    "pillars_cooperativemember": AdminModel("read", obj="member"),
    "pillars_cooperativeperiod": AdminModel("read", obj="figures"),
    "pillars_activity": AdminModel("read", obj="activity"),
    "pillars_referral": AdminModel("read", obj="referral"),
    "pillars_case": AdminModel("read", obj="case"),
    "pillars_monthlyreport": AdminModel("read", obj="report"),
    "pillars_auditentry": AdminModel("read", obj="audit"),
    # Report jobs and their downloads.
    "reports_reportjob": AdminModel("read", obj="job"),
    "reports_reportdownload": AdminModel("read", obj="download"),
}

# Who may (GET, POST) each admin page of a model, by kind. Non-staff never get past the admin's
# sign-in page; staff without the right get 403.
_ADMIN_RIGHTS: dict[str, dict[str, tuple]] = {
    "read": {
        "changelist": (ADMIN_STAFF, ADMIN_STAFF),
        "add": (NOBODY, NOBODY),
        "change": (ADMIN_STAFF, NOBODY),
        "history": (ADMIN_STAFF, ADMIN_STAFF),
        "delete": (NOBODY, NOBODY),
    },
    "designation": {
        "changelist": (ADMIN_STAFF, ADMIN_STAFF),
        "add": (MINISTRY, MINISTRY),
        "change": (ADMIN_STAFF, MINISTRY),
        "history": (ADMIN_STAFF, ADMIN_STAFF),
        "delete": (MINISTRY, MINISTRY),
    },
    "users": {
        "changelist": (ADMIN_STAFF, ADMIN_STAFF),
        "add": (NOBODY, NOBODY),
        "change": (ADMIN_STAFF, MINISTRY),
        "history": (ADMIN_STAFF, ADMIN_STAFF),
        "delete": (NOBODY, NOBODY),
    },
    "programme": {
        "changelist": (ADMIN_STAFF, ADMIN_STAFF),
        "add": (MINISTRY, MINISTRY),
        "change": (ADMIN_STAFF, MINISTRY),
        "history": (ADMIN_STAFF, ADMIN_STAFF),
        "delete": (NOBODY, NOBODY),
    },
    "staff": {
        "changelist": (ADMIN_STAFF, ADMIN_STAFF),
        "add": (NOBODY, NOBODY),
        "change": (ADMIN_STAFF, NOBODY),
        "history": (ADMIN_STAFF, ADMIN_STAFF),
        "delete": (NOBODY, NOBODY),
    },
    "superuser": dict.fromkeys(
        ("changelist", "add", "change", "history", "delete"), (MINISTRY, MINISTRY)
    ),
}
# A missing object: the change and history pages send the user to the admin's index.
ADMIN_MISSING = 302


def _admin_object(model: AdminModel) -> tuple[Builder, bool]:
    if model.obj is not None:
        return (lambda side: {"object_id": getattr(side, model.obj)}), True
    return (lambda side: {"object_id": model.fixed()}), False


def admin_rows(key: str, model: AdminModel) -> dict[str, Url]:
    rights = _ADMIN_RIGHTS[model.kind]
    kwargs, sided = _admin_object(model)
    rows = {}
    for view in ("changelist", "add"):
        get, post = rights[view]
        rows[f"admin:{key}_{view}"] = Url(get=get, post=post, login=ADMIN)
    if model.fixed is NO_OBJECT:
        # A row that does not exist: the admin says so (302 to its index) to those who may
        # open the page, after the right is checked (change, delete) or before (history).
        for view in ("change", "history", "delete"):
            get, post = rights[view]
            if view == "history":
                get = post = ADMIN_STAFF
            rows[f"admin:{key}_{view}"] = Url(
                get=get, post=post, login=ADMIN, kwargs=kwargs, sided=False, ok=REDIRECT
            )
        return rows
    for view in ("change", "history", "delete"):
        get, post = rights[view]
        rows[f"admin:{key}_{view}"] = Url(
            get=get,
            post=post,
            login=ADMIN,
            kwargs=kwargs,
            sided=sided,
            outside=ADMIN_MISSING,
            missing=ADMIN_MISSING if view != "delete" else None,
            # The history page looks the object up before it asks for the right.
            scope_first=view == "history",
        )
    return rows


def admin_redirect_route(key: str) -> str:
    """The unnamed `<object_id>/` pattern of a model, which redirects to its change page."""
    from django.apps import apps

    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == key:
            return f"route:admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"
    raise LookupError(key)


def admin_table() -> dict[str, Url]:
    rows: dict[str, Url] = {
        "admin:index": Url(get=ADMIN_STAFF, post=ADMIN_STAFF, login=ADMIN),
        "admin:app_list": Url(
            get=ADMIN_STAFF,
            post=ADMIN_STAFF,
            login=ADMIN,
            kwargs=lambda s: {"app_label": "migrants"},
            sided=False,
        ),
        # Signing in and out of the admin goes through allauth (secure_admin_login).
        "admin:login": _allauth(),
        "admin:logout": _allauth(),
        "admin:password_change": Url(get=ADMIN_STAFF, post=ADMIN_STAFF, login=ADMIN),
        "admin:password_change_done": Url(get=ADMIN_STAFF, post=None, login=ADMIN),
        # Without its parameters the autocomplete refuses everyone (403).
        "admin:autocomplete": Url(get=NOBODY, post=None, login=ADMIN),
        "admin:jsi18n": Url(get=ADMIN_STAFF, post=None, login=ADMIN, ok=OK_200),
        "admin:view_on_site": Url(
            get=ADMIN_STAFF,
            post=ADMIN_STAFF,
            login=ADMIN,
            kwargs=lambda s: {"content_type_id": 987654, "object_id": 1},
            sided=False,
            ok=frozenset({404}),
        ),
        "route:admin/(?P<url>.*)$": Url(
            get=ADMIN_STAFF,
            post=ADMIN_STAFF,
            login=ADMIN,
            kwargs=lambda s: {"url": "matrix-no-such-page/"},
            sided=False,
            ok=frozenset({404}),
        ),
        # The register's export (django-import-export), in the admin: scoped like the list.
        "admin:migrants_person_export": Url(
            get=ADMIN_STAFF,
            post=ADMIN_STAFF,
            login=ADMIN,
            data=lambda s: {"format": "0"},
            sided=False,
        ),
        "admin:auth_user_password_change": Url(
            get=MINISTRY,
            post=MINISTRY,
            login=ADMIN,
            kwargs=lambda s: {"id": s.user},
        ),
    }
    for key, model in ADMIN_MODELS.items():
        rows.update(admin_rows(key, model))
        kwargs, _sided = _admin_object(model)
        rows[admin_redirect_route(key)] = Url(
            get=ADMIN_STAFF,
            post=ADMIN_STAFF,
            login=ADMIN,
            kwargs=kwargs,
            sided=False,
            ok=REDIRECT,
        )
    return rows


def full_table() -> dict[str, Url]:
    return {**APPLICATION, **ALLAUTH, **admin_table()}

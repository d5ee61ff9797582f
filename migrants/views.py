from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import Action, can, require
from accounts.reauth import require_reauthentication
from desmigratif.pagination import window
from migrants import services
from migrants.access import log_read
from migrants.forms import (
    DepartureForm,
    EpisodeForm,
    PersonForm,
    ReasonForm,
    RegisterFilterForm,
    ReturnForm,
    TransferForm,
)
from migrants.models import Person, PersonHistory, SensitiveAccess, Verification
from migrants.privacy import SearchExpired, loggable_filters, stash_search, unstash_search
from migrants.selectors import get_episode_for_user_or_404, get_person_for_user_or_404
from villages.models import Designation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields (or on top when the field is not there)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _villages_in_scope(user) -> list[tuple[str, str]]:
    designations = Designation.objects.for_user(user).select_related("village")
    return sorted(((d.village_id, d.village.label) for d in designations), key=lambda v: v[1])


@never_cache
@login_required
def register(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_REGISTER)
    if request.method == "POST":
        # The filters are posted, so a NIK typed in the search never lands in an address
        # (server logs, browser history): the address carries a token for it instead.
        return redirect(f"{request.path}?{stash_search(request, request.POST)}")
    try:
        data = unstash_search(request, request.GET)
    except SearchExpired:
        messages.info(request, _("That search has expired: search again."))
        return redirect("migrants:register")
    form = RegisterFilterForm(data or {"sort": "name"}, villages=_villages_in_scope(request.user))
    people = form.filter(Person.objects.for_user(request.user).alive()).select_related("village")
    page = window(people, request.GET.get("page"), settings.PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "migrants/register.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_edit": can(request.user, Action.EDIT_REGISTER),
        },
    )


@never_cache
@login_required
def person_detail(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.VIEW_REGISTER)
    person = get_person_for_user_or_404(
        request.user, pk, deleted=can(request.user, Action.RESTORE_DELETED)
    )
    if person.is_child:
        log_read(actor=request.user, kind=SensitiveAccess.Kind.CHILD_RECORD, person=person)
    return _render_person(request, person)


def _render_person(
    request: HttpRequest, person: Person, *, revealed: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    family = []
    if person.no_kk:
        family = list(
            Person.objects.for_user(user)
            .alive()
            .filter(no_kk=person.no_kk)
            .exclude(pk=person.pk)
            .order_by("birth_date")
        )
    history = list(
        PersonHistory.objects.filter(person=person).select_related("actor", "village")[:100]
    )
    return render(
        request,
        "migrants/person_detail.html",
        {
            "person": person,
            "episodes": list(person.episodes.all()),
            "family": family,
            "history": history,
            "revealed": revealed or {},
            "can_edit": can(user, Action.EDIT_REGISTER) and not person.is_deleted,
            "can_reveal": can(user, Action.REVEAL_NIK),
            "can_verify": can(user, Action.VERIFY_REGISTER),
            "can_restore": can(user, Action.RESTORE_DELETED) and person.is_deleted,
            "can_transfer": can(user, Action.TRANSFER_IN_REGENCY) and not person.is_deleted,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def person_reveal(request: HttpRequest, pk) -> HttpResponse:
    """Show the full NIK or No. KK once, on an explicit request; each reveal is logged."""
    require(request.user, Action.REVEAL_NIK)
    person = get_person_for_user_or_404(request.user, pk)
    kind = request.POST.get("what")
    if kind not in SensitiveAccess.Kind.values:
        kind = SensitiveAccess.Kind.NIK_REVEAL
    value = services.nik_reveal(person=person, actor=request.user, kind=kind)
    return _render_person(request, person, revealed={kind: value})


@never_cache
@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    form = PersonForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        village = data.pop("village")
        try:
            person = services.person_register(village=village, data=data, actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.full_name})
            return redirect("migrants:detail", pk=person.pk)
    return render(request, "migrants/person_form.html", {"form": form})


@never_cache
@login_required
def person_edit(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    person = get_person_for_user_or_404(request.user, pk)
    form = PersonForm(request.POST or None, instance=person, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(person=person, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("migrants:detail", pk=person.pk)
    return render(request, "migrants/person_form.html", {"form": form, "person": person})


def _episode_action(request, pk, *, form_class, service, title, success, episode_pk=None):
    require(request.user, Action.EDIT_REGISTER)
    person = get_person_for_user_or_404(request.user, pk)
    instance = get_episode_for_user_or_404(request.user, person, episode_pk) if episode_pk else None
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            if instance is not None:
                service(episode=instance, data=form.cleaned_data, actor=request.user)
            else:
                service(person=person, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("migrants:detail", pk=person.pk)
    return render(
        request, "migrants/episode_form.html", {"form": form, "person": person, "title": title}
    )


@never_cache
@login_required
def record_departure(request: HttpRequest, pk) -> HttpResponse:
    return _episode_action(
        request,
        pk,
        form_class=DepartureForm,
        service=services.person_record_departure,
        title=_("Record departure"),
        success=_("The departure is recorded."),
    )


@never_cache
@login_required
def record_return(request: HttpRequest, pk) -> HttpResponse:
    return _episode_action(
        request,
        pk,
        form_class=ReturnForm,
        service=services.person_record_return,
        title=_("Record return"),
        success=_("The return is recorded."),
    )


@never_cache
@login_required
def episode_create(request: HttpRequest, pk) -> HttpResponse:
    return _episode_action(
        request,
        pk,
        form_class=EpisodeForm,
        service=services.episode_add,
        title=_("Add a migration"),
        success=_("The migration is recorded."),
    )


@never_cache
@login_required
def episode_edit(request: HttpRequest, pk, episode_pk) -> HttpResponse:
    return _episode_action(
        request,
        pk,
        form_class=EpisodeForm,
        service=services.episode_update,
        title=_("Change the migration"),
        success=_("The changes are saved."),
        episode_pk=episode_pk,
    )


@never_cache
@login_required
def person_delete(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    person = get_person_for_user_or_404(request.user, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.person_delete(
            person=person, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            _("%(name)s is deleted. The regency coordinator can restore the record.")
            % {"name": person.full_name},
        )
        return redirect("migrants:register")
    return render(
        request,
        "migrants/confirm.html",
        {
            "form": form,
            "person": person,
            "title": _("Delete this record"),
            "explain": _(
                "The record leaves the register. It is kept with its history, and the "
                "regency coordinator can restore it."
            ),
            "button": _("Delete"),
            "danger": True,
        },
    )


@login_required
@require_POST
def person_restore(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.RESTORE_DELETED)
    person = get_person_for_user_or_404(request.user, pk, deleted=True)
    try:
        services.person_restore(person=person, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The record is restored."))
    return redirect("migrants:detail", pk=person.pk)


@never_cache
@login_required
def person_transfer(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.TRANSFER_IN_REGENCY)
    person = get_person_for_user_or_404(request.user, pk)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_transfer(
                person=person,
                to_village=form.cleaned_data["to_village"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The record is moved to %(village)s.") % {"village": person.village.label},
            )
            if Person.objects.for_user(request.user).filter(pk=person.pk).exists():
                return redirect("migrants:detail", pk=person.pk)
            return redirect("migrants:register")
    return render(request, "migrants/transfer.html", {"form": form, "person": person})


@login_required
@require_POST
def person_submit(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    person = get_person_for_user_or_404(request.user, pk)
    if services.persons_submit(persons=[person], actor=request.user):
        messages.success(request, _("The record is sent to the coordinator for verification."))
    return redirect("migrants:detail", pk=person.pk)


@login_required
@require_POST
def submit_all(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    people = list(
        Person.objects.for_user(request.user)
        .alive()
        .filter(verification__in=[Verification.DRAFT, Verification.RETURNED])[:5000]
    )
    count = services.persons_submit(persons=people, actor=request.user)
    messages.success(request, _("%(count)d records sent for verification.") % {"count": count})
    return redirect("migrants:register")


@never_cache
@login_required
def verification_queue(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VERIFY_REGISTER)
    if request.method == "POST":
        chosen = request.POST.getlist("person")
        people = list(Person.objects.for_user(request.user).alive().filter(pk__in=chosen[:1000]))
        count = services.persons_verify(persons=people, actor=request.user)
        messages.success(request, _("%(count)d records verified.") % {"count": count})
        return redirect("migrants:verification")
    people = (
        Person.objects.for_user(request.user)
        .alive()
        .filter(verification=Verification.SUBMITTED)
        .select_related("village")
        .order_by("village_id", "name_key")
    )
    page = window(people, request.GET.get("page"), settings.PAGE_SIZE)
    return render(request, "migrants/verification.html", {"page": page, "query": ""})


@never_cache
@login_required
def person_send_back(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.VERIFY_REGISTER)
    person = get_person_for_user_or_404(request.user, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.person_send_back(
            person=person, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("The record is returned to the village."))
        return redirect("migrants:verification")
    return render(
        request,
        "migrants/confirm.html",
        {
            "form": form,
            "person": person,
            "title": _("Return to the village"),
            "explain": _("Say what the village must correct; the officer sees your note."),
            "button": _("Return to the village"),
            "danger": False,
        },
    )


@never_cache
@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MERGE_DUPLICATES)
    if request.method == "POST":
        first = get_person_for_user_or_404(request.user, request.POST.get("first"))
        second = get_person_for_user_or_404(request.user, request.POST.get("second"))
        try:
            if request.POST.get("action") == "merge":
                services.persons_merge(keep=first, other=second, actor=request.user)
                messages.success(request, _("The records are merged."))
            else:
                services.duplicate_dismiss(first=first, second=second, actor=request.user)
                messages.success(request, _("Marked as different people."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("migrants:duplicates")
    groups = services.likely_duplicates(actor=request.user)
    return render(request, "migrants/duplicates.html", {"groups": groups})


@never_cache
@login_required
def deleted_records(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.RESTORE_DELETED)
    people = (
        Person.objects.for_user(request.user)
        .filter(deleted_at__isnull=False, anonymised_at__isnull=True)
        .select_related("village", "deleted_by")
        .order_by("-deleted_at")
    )
    page = window(people, request.GET.get("page"), settings.PAGE_SIZE)
    return render(request, "migrants/deleted.html", {"page": page, "query": ""})


# --- Import ----------------------------------------------------------------------------------


def _get_batch_for_user_or_404(user, pk):
    from migrants.models import ImportBatch

    batch = (
        ImportBatch.objects.for_user(user)
        .select_related("created_by", "scope")
        .filter(pk=pk)
        .first()
    )
    if batch is None:
        raise Http404
    return batch


@never_cache
@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    from migrants.forms import ImportUploadForm
    from migrants.importer import import_upload

    require(request.user, Action.IMPORT_REGISTER)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_upload(actor=request.user, data=upload.read(), filename=upload.name)
        return redirect("migrants:import-batch", pk=batch.pk)
    return render(request, "migrants/import_start.html", {"form": form})


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    from migrants.spreadsheets import template_xlsx

    require(request.user, Action.IMPORT_REGISTER)
    return _download(template_xlsx(), "template-register-desmigratif.xlsx")


def _download(data: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def import_batch(request: HttpRequest, pk) -> HttpResponse:
    from django.core.paginator import Paginator

    from migrants.importer import get_progress

    require(request.user, Action.IMPORT_REGISTER)
    batch = _get_batch_for_user_or_404(request.user, pk)
    kind = request.GET.get("rows", "error")
    if kind not in ("error", "warning", "new", "updated", "unchanged"):
        kind = "error"
    problems = page = None
    if kind in ("error", "warning"):
        problems = Paginator(batch.problems.filter(level=kind).order_by("row", "id"), 100).get_page(
            request.GET.get("page")
        )
    else:
        rows = [row for row in batch.outcomes if row[1] == kind]
        page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "migrants/import_batch.html",
        {
            "batch": batch,
            "progress": get_progress(batch),
            "kind": kind,
            "problems": problems,
            "page": page,
            "file_problems": batch.problems.filter(row=1),
            "can_undo": can(request.user, Action.UNDO_IMPORT),
        },
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk) -> HttpResponse:
    from migrants.importer import confirm_batch

    require(request.user, Action.IMPORT_REGISTER)
    batch = _get_batch_for_user_or_404(request.user, pk)
    if not confirm_batch(batch=batch, actor=request.user):
        messages.info(request, _("This import is already on its way."))
    return redirect("migrants:import-batch", pk=batch.pk)


@login_required
@require_POST
def import_cancel(request: HttpRequest, pk) -> HttpResponse:
    from migrants.importer import cancel_batch

    require(request.user, Action.IMPORT_REGISTER)
    batch = _get_batch_for_user_or_404(request.user, pk)
    if cancel_batch(batch=batch, actor=request.user):
        messages.success(request, _("The import is cancelled; nothing was written."))
    return redirect("migrants:import-list")


@login_required
@require_POST
def import_undo(request: HttpRequest, pk) -> HttpResponse:
    from migrants.importer import UndoRefused, undo_import

    require(request.user, Action.UNDO_IMPORT)
    batch = _get_batch_for_user_or_404(request.user, pk)
    require_reauthentication(request)
    try:
        count = undo_import(batch=batch, actor=request.user)
    except UndoRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The import is undone (%(count)d records).") % {"count": count})
    return redirect("migrants:import-batch", pk=batch.pk)


@login_required
def import_errors(request: HttpRequest, pk) -> HttpResponse:
    """The rows with errors, as they were sent, with a "Kesalahan" column: fix and re-upload."""
    from migrants.spreadsheets import error_report_xlsx
    from migrants.tabular import FileRejected, read_table

    require(request.user, Action.IMPORT_REGISTER)
    batch = _get_batch_for_user_or_404(request.user, pk)
    messages_by_row: dict[int, list[str]] = {}
    for row, column, message in (
        batch.problems.filter(level="error").exclude(row=1).values_list("row", "column", "message")
    ):
        messages_by_row.setdefault(row, []).append(f"{column}: {message}" if column else message)
    try:
        with batch.file.open("rb") as handle:
            table = read_table(handle.read())
    except FileRejected:
        raise Http404 from None
    rows = [
        (number, cells, messages_by_row[number])
        for number, cells in table.rows
        if number in messages_by_row
    ]
    stem = batch.filename.rsplit(".", 1)[0][:60]
    return _download(error_report_xlsx(table.header, rows), f"{stem}-kesalahan.xlsx")


@login_required
def import_original(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.IMPORT_REGISTER)
    batch = _get_batch_for_user_or_404(request.user, pk)
    with batch.file.open("rb") as handle:
        data = handle.read()
    log_read(actor=request.user, kind=SensitiveAccess.Kind.IMPORT_FILE, record=batch)
    content_type = XLSX if batch.kind == "xlsx" else "text/csv"
    return _download(data, batch.filename, content_type)


@never_cache
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    from migrants.models import ImportBatch

    require(request.user, Action.IMPORT_REGISTER)
    batches = ImportBatch.objects.for_user(request.user).select_related("created_by", "scope")
    page = window(batches, request.GET.get("page"), settings.PAGE_SIZE)
    return render(request, "migrants/import_list.html", {"page": page, "query": ""})


# --- Export ----------------------------------------------------------------------------------


@never_cache
@login_required
def register_export(request: HttpRequest) -> HttpResponse:
    """The register of the user's area, with the list's filters, as xlsx or csv; logged."""
    from django.http import StreamingHttpResponse

    from migrants.forms import ExportForm
    from migrants.models import ExportLog
    from migrants.spreadsheets import export_header, iter_export_rows, stream_csv, write_xlsx

    require(request.user, Action.EXPORT_REGISTER)
    if request.method == "POST":
        require_reauthentication(request)
    try:
        data = unstash_search(request, request.GET)
    except SearchExpired:
        messages.info(request, _("That search has expired: search again."))
        return redirect("migrants:register")
    filters = RegisterFilterForm(
        data or {"sort": "name"}, villages=_villages_in_scope(request.user)
    )
    may_reveal = can(request.user, Action.REVEAL_NIK)
    form = ExportForm(request.POST or None, may_reveal=may_reveal)
    if request.method == "POST" and form.is_valid():
        people = filters.filter(Person.objects.for_user(request.user).alive())
        if form.cleaned_data["format"] == "xlsx" and (
            people.count() > settings.EXPORT_XLSX_MAX_ROWS
        ):
            # An xlsx is built in memory at ~4,000 rows/s; CSV streams at any size.
            form.add_error(
                "format",
                _(
                    "More than %(max)d rows: choose CSV (it opens in Excel too), or narrow the "
                    "filters."
                )
                % {"max": settings.EXPORT_XLSX_MAX_ROWS},
            )
            return render(
                request,
                "migrants/export.html",
                {
                    "form": form,
                    "filters": filters,
                    "query": request.GET.urlencode(),
                },
            )
        full_nik = bool(form.cleaned_data.get("full_nik"))
        log = ExportLog.objects.create(
            actor=request.user,
            scope_id=request.user.scope_id,
            format=form.cleaned_data["format"],
            full_nik=full_nik,
            reason=form.cleaned_data.get("reason", ""),
            filters=loggable_filters(data),
        )
        rows = iter_export_rows(people.select_related("village"), full_nik=full_nik)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if form.cleaned_data["format"] == "csv":
            counted = _counting(rows, log)
            response = StreamingHttpResponse(
                stream_csv(export_header(), counted), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="register-{stamp}.csv"'
            response["Cache-Control"] = "no-store"
            return response
        counted = _counting(rows, log)
        data = write_xlsx(export_header(), counted, sheet_title="Register")
        return _download(data, f"register-{stamp}.xlsx")
    return render(
        request,
        "migrants/export.html",
        {
            "form": form,
            "filters": filters,
            "query": request.GET.urlencode(),
        },
    )


def _counting(rows, log):
    """Pass rows through, and record on the log how many went out."""
    from migrants.models import ExportLog

    count = 0
    for row in rows:
        count += 1
        yield row
    ExportLog.objects.filter(pk=log.pk).update(rows=count)

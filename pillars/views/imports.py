"""Pages of the pillar imports: the list, the upload, the templates, a batch's progress and
preview, confirm, cancel and the error report. The work is in pillars.imports."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import Action, require
from desmigratif.pagination import window
from migrants.access import log_read
from migrants.models import SensitiveAccess
from migrants.tabular import FileRejected
from pillars import imports, services
from pillars.models import PillarImport
from pillars.views.records import designated_villages, own_village

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_KINDS = ("error", "warning", "new", "unchanged")


class UploadForm(forms.Form):
    target = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[("", "—"), *((v, capfirst(label)) for v, label in PillarImport.Target.choices)],
    )
    village = forms.ChoiceField(label=gettext_lazy("Village"))
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (xlsx or csv)"),
        help_text=gettext_lazy("Use the template of the register you import into."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.own = own_village(user)
        if self.own:
            # A village officer imports into their own village only.
            del self.fields["village"]
        else:
            self.fields["village"].choices = [("", "—"), *designated_villages(user)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB. Split it into smaller files.")
                % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload

    def chosen_village(self) -> str:
        return self.own or self.cleaned_data["village"]


def _get_batch_for_user_or_404(user: User, pk) -> PillarImport:
    """The batch if it lies in the user's area, else 404 (never 403: no hint it exists)."""
    batch = (
        PillarImport.objects.for_user(user)
        .select_related("created_by", "village")
        .filter(pk=pk)
        .first()
    )
    if batch is None:
        raise Http404
    return batch


def _download(data: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    batches = PillarImport.objects.for_user(request.user).select_related("created_by", "village")
    page = window(batches, request.GET.get("page"), settings.PAGE_SIZE)
    return render(request, "pillars/imports/list.html", {"page": page, "query": ""})


@never_cache
@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.import_upload(
                actor=request.user,
                target=form.cleaned_data["target"],
                village=form.chosen_village(),
                data=upload.read(),
                filename=upload.name,
            )
        except PermissionDenied:
            form.add_error(None, _("You cannot record data for this village."))
        else:
            return redirect("pillars:import-batch", pk=batch.pk)
    return render(
        request,
        "pillars/imports/start.html",
        {"form": form, "targets": PillarImport.Target.choices},
    )


@login_required
def import_template(request: HttpRequest, target: str) -> HttpResponse:
    """A register's template; for one village (the officer's, or ?village=) its cooperatives
    or groups are listed in the file and offered as a drop-down."""
    require(request.user, Action.EDIT_PILLARS)
    if target not in imports.SPECS:
        raise Http404
    spec = imports.spec_for(target)
    village = request.GET.get("village") or own_village(request.user)
    if village and not services.village_in_scope(request.user, village):
        raise Http404
    references = (
        imports.reference_names(spec, village=village, actor=request.user) if village else None
    )
    return _download(
        imports.template_xlsx(spec, references=references), f"template-{spec.slug}.xlsx"
    )


@never_cache
@login_required
def import_batch(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    batch = _get_batch_for_user_or_404(request.user, pk)
    kind = request.GET.get("rows", "error")
    if kind not in PREVIEW_KINDS:
        kind = "error"
    if kind in ("error", "warning"):
        listed = [p for p in batch.problems if p["level"] == kind and p["row"] > 1]
    else:
        listed = [
            {"row": number, "label": label}
            for number, outcome, label in batch.outcomes
            if outcome == kind
        ]
    return render(
        request,
        "pillars/imports/batch.html",
        {
            "batch": batch,
            "progress": imports.get_progress(batch),
            "kind": kind,
            "kinds": [
                ("error", _("Errors")),
                ("warning", _("Warnings")),
                ("new", _("New")),
                ("unchanged", _("Unchanged")),
            ],
            "rows": Paginator(listed, 100).get_page(request.GET.get("page")),
            "file_problems": [p for p in batch.problems if p["row"] == 1],
            "refresh_seconds": 2,
        },
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    batch = _get_batch_for_user_or_404(request.user, pk)
    if not imports.confirm_batch(batch=batch, actor=request.user):
        messages.info(request, _("This import is already on its way."))
    return redirect("pillars:import-batch", pk=batch.pk)


@login_required
@require_POST
def import_cancel(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    batch = _get_batch_for_user_or_404(request.user, pk)
    if imports.cancel_batch(batch=batch, actor=request.user):
        messages.success(request, _("The import is cancelled; nothing was written."))
    return redirect("pillars:import-list")


@login_required
def import_errors(request: HttpRequest, pk) -> HttpResponse:
    """The rows with errors, as they were sent, with a "Kesalahan" column: fix and re-upload."""
    require(request.user, Action.EDIT_PILLARS)
    batch = _get_batch_for_user_or_404(request.user, pk)
    try:
        data = imports.error_report(batch)
    except FileRejected:
        raise Http404 from None
    stem = batch.filename.rsplit(".", 1)[0][:60]
    return _download(data, f"{stem}-kesalahan.xlsx")


@login_required
def import_original(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_PILLARS)
    batch = _get_batch_for_user_or_404(request.user, pk)
    with batch.file.open("rb") as handle:
        data = handle.read()
    # The file holds the full NIKs the importer typed.
    log_read(actor=request.user, kind=SensitiveAccess.Kind.IMPORT_FILE, record=batch)
    return _download(data, batch.filename, XLSX if batch.kind == "xlsx" else "text/csv")

"""Pages for what the personal-data law asks: the access log (ministry administrators), the
subject-access report (coordinators and the ministry) and correction requests (those who
edit the register). The rules live in migrants.access and migrants.privacy."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import Action, can, require
from desmigratif.pagination import window
from migrants import access, privacy
from migrants.models import CorrectionRequest, Person
from migrants.selectors import get_person_for_user_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NikField(forms.CharField):
    """A full NIK, as typed or pasted (spaces, dots); cleaned to its 16 digits."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value) -> str:
        value = super().clean(value)
        if not value:
            return ""
        digits = privacy.number_in(value)
        if len(digits) != 16:
            raise ValidationError(_("Give the full NIK: 16 digits."))
        return digits


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not privacy.may_use_privacy_pages(request.user):
        raise PermissionDenied
    return render(
        request,
        "migrants/privacy/home.html",
        {
            "can_correct": can(request.user, Action.EDIT_REGISTER),
            "can_answer": privacy.may_answer_subject_requests(request.user),
            "can_read_log": access.may_view_access_log(request.user),
            "retention_years": settings.RETENTION_YEARS,
        },
    )


# --- The access log ------------------------------------------------------------------------------


class AccessLogForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("User"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Part of a username, name or e-mail address."),
    )
    what = forms.ChoiceField(
        label=gettext_lazy("What"),
        required=False,
        choices=[("", gettext_lazy("All")), *access.WHAT_CHOICES],
    )
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=_date_input())
    until = forms.DateField(label=gettext_lazy("Until"), required=False, widget=_date_input())
    nik = NikField(
        label=gettext_lazy("NIK of the person"),
        required=False,
        help_text=gettext_lazy(
            "The reads of this person's record and the exports that may have held it."
        ),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("Give a date on or after the first one."))
        return cleaned


@never_cache
@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """The merged log, newest first. The search is posted (a NIK is never in the address),
    and so are its pages."""
    if not access.may_view_access_log(request.user):
        raise PermissionDenied
    form = AccessLogForm(request.POST or None)
    flt = access.LogFilter()
    if request.method == "POST":
        flt = None
        if form.is_valid():
            data = form.cleaned_data
            flt = access.LogFilter(
                user=data["user"].strip(),
                what=data["what"],
                since=data["since"],
                until=data["until"],
            )
            if data["nik"]:
                person = Person.objects.for_user(request.user).filter(nik=data["nik"]).first()
                flt.people = (
                    list(Person.objects.filter(pk__in=privacy.related_ids(person)))
                    if person
                    else []
                )
    try:
        number = max(int(request.POST.get("page", 1)), 1)
    except ValueError:
        number = 1
    size = settings.PAGE_SIZE
    rows = []
    if flt is not None:
        rows = access.access_log(flt, offset=(number - 1) * size, limit=size + 1)
    return render(
        request,
        "migrants/privacy/access_log.html",
        {
            "form": form,
            "rows": rows[:size],
            "number": number,
            "has_next": len(rows) > size,
            "searched_people": flt.people if flt is not None else None,
        },
    )


# --- The subject-access report ----------------------------------------------------------------


class SubjectAccessForm(forms.Form):
    nik = NikField(label=gettext_lazy("NIK of the person"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        help_text=gettext_lazy(
            "E.g. the person's written request of a given date; it goes into the access log."
        ),
    )


@never_cache
@login_required
def subject_access(request: HttpRequest) -> HttpResponse:
    """Everything held about the holder of a NIK, as a page or an xlsx, in one request."""
    if not privacy.may_answer_subject_requests(request.user):
        raise PermissionDenied
    form = SubjectAccessForm(request.POST or None)
    report = None
    if request.method == "POST" and form.is_valid():
        person = privacy.find_subject(actor=request.user, nik=form.cleaned_data["nik"])
        if person is None:
            form.add_error("nik", _("No record in your area holds this NIK."))
        else:
            report = privacy.subject_report(
                actor=request.user, person=person, reason=form.cleaned_data["reason"]
            )
            if request.POST.get("format") == "xlsx":
                stamp = timezone.localtime(report.made_at).strftime("%Y%m%d-%H%M")
                response = HttpResponse(privacy.subject_report_xlsx(report), content_type=XLSX)
                response["Content-Disposition"] = f'attachment; filename="data-subjek-{stamp}.xlsx"'
                response["Cache-Control"] = "no-store"
                return response
    return render(request, "migrants/privacy/subject_access.html", {"form": form, "report": report})


# --- Correction requests ----------------------------------------------------------------------


class CorrectionForm(forms.ModelForm):
    class Meta:
        model = CorrectionRequest
        fields = ["received_on", "wrong", "requested_change"]
        widgets = {
            "received_on": _date_input(),
            "wrong": forms.Textarea(attrs={"rows": 3}),
            "requested_change": forms.Textarea(attrs={"rows": 3}),
        }


class CloseForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[
            (CorrectionRequest.State.DONE, gettext_lazy("done")),
            (CorrectionRequest.State.REFUSED, gettext_lazy("refused")),
        ],
    )
    outcome = forms.CharField(
        label=gettext_lazy("Note or reason for refusing"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _get_correction_for_user_or_404(user, pk) -> CorrectionRequest:
    request = (
        CorrectionRequest.objects.for_user(user)
        .select_related("person__village", "recorded_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404
    return request


@never_cache
@login_required
def correction_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    state = request.GET.get("state", CorrectionRequest.State.REQUESTED)
    requests = CorrectionRequest.objects.for_user(request.user).select_related(
        "person__village", "recorded_by"
    )
    if state in CorrectionRequest.State.values:
        requests = requests.filter(state=state)
    else:
        state = ""
    page = window(requests, request.GET.get("page"), settings.PAGE_SIZE)
    now = timezone.now()
    page.object_list = [
        (item, privacy.correction_due(item), privacy.correction_due(item) < now)
        for item in page.object_list
    ]
    return render(
        request,
        "migrants/privacy/corrections.html",
        {
            "page": page,
            "state": state,
            "states": CorrectionRequest.State.choices,
            "query": f"state={state}",
        },
    )


@never_cache
@login_required
def correction_create(request: HttpRequest, person_pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    person = get_person_for_user_or_404(request.user, person_pk)
    form = CorrectionForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            correction = privacy.correction_record(
                person=person,
                actor=request.user,
                wrong=form.cleaned_data["wrong"],
                requested_change=form.cleaned_data["requested_change"],
                received_on=form.cleaned_data["received_on"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The request is recorded. Correct the record now."))
            return redirect("privacy:correction-detail", correction.pk)
    return render(
        request, "migrants/privacy/correction_form.html", {"form": form, "person": person}
    )


@never_cache
@login_required
def correction_detail(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    correction = _get_correction_for_user_or_404(request.user, pk)
    return render(
        request,
        "migrants/privacy/correction_detail.html",
        {
            "correction": correction,
            "changes": list(privacy.changes_since(correction)[:50]),
            "due": privacy.correction_due(correction),
            "overdue": privacy.correction_due(correction) < timezone.now(),
            "close_form": CloseForm(),
            "is_open": correction.state == CorrectionRequest.State.REQUESTED,
        },
    )


@login_required
@require_POST
def correction_close(request: HttpRequest, pk) -> HttpResponse:
    require(request.user, Action.EDIT_REGISTER)
    correction = _get_correction_for_user_or_404(request.user, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose done or refused."))
        return redirect("privacy:correction-detail", correction.pk)
    try:
        privacy.correction_close(
            request=correction,
            actor=request.user,
            state=form.cleaned_data["state"],
            outcome=form.cleaned_data["outcome"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The request is closed."))
    return redirect("privacy:correction-detail", correction.pk)

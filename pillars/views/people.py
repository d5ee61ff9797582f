"""Whom a pillar record may name to its reader (issue 7).

A pillar record stays in its village when the person it points to moves away (the register's
transfer), and its readers may no longer see that person. So a record names a person only when
the person is in `Person.objects.for_user(reader)`; otherwise it shows a placeholder, with no
name and no identifier. The register pages, their forms' option labels and the admin all go
through the same two steps: `with_people_shown` asks, in the records' own query, whether the
reader may see each person a record points to (no query of its own, so a list costs what it
did), and `hide_people` puts the placeholder in place of those the reader may not see.
"""

from collections.abc import Iterable

from django import forms
from django.db.models import Exists, Field, Model, OuterRef, Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy

from accounts.models import User
from migrants.models import Person

# Neutral on purpose: the person moved outside the reader's area, or is a child the reader's
# role does not see; the placeholder does not say which.
OUTSIDE = gettext_lazy("(not shown to you)")

# How far `hide_people` follows the related rows a record was fetched with
# (`select_related`): a referral's enterprise's owner is two steps away.
DEPTH = 3


class HiddenPerson:
    """Stands in for a person the reader may not see: the placeholder for a name, nothing else
    (no primary key, so no link can be made to the person)."""

    pk = None
    id = None

    @property
    def full_name(self) -> str:
        return str(OUTSIDE)

    def __str__(self) -> str:
        return str(OUTSIDE)


HIDDEN = HiddenPerson()


def is_person_link(field: Field) -> bool:
    """Whether a model field points to people of the register (a foreign key or a list)."""
    return (
        field.concrete
        and bool(field.many_to_one or field.one_to_one or field.many_to_many)
        and field.related_model is Person
    )


def person_fields(model: type[Model]) -> list[Field]:
    return [f for f in model._meta.get_fields() if is_person_link(f)]


def shown_alias(path: str) -> str:
    """The annotation saying whether the reader may see the person at `path` of a record."""
    return "shows_" + path.replace("__", "_")


def person_paths(model: type[Model], related: dict | bool) -> list[str]:
    """The paths to people of a record of `model`: its own person fields, and those of the
    related rows fetched with it (`related`: a query's `select_related`)."""
    paths = [f.name for f in person_fields(model) if not f.many_to_many]
    if isinstance(related, dict):
        for name, deeper in related.items():
            model_field = model._meta.get_field(name)
            if model_field.related_model not in (None, Person):
                paths += [f"{name}__{p}" for p in person_paths(model_field.related_model, deeper)]
    return paths


def with_people_shown(records: QuerySet, user: User) -> QuerySet:
    """The records, each telling (for `hide_people`) which of its people `user` may see."""
    visible = Person.objects.for_user(user)
    return records.annotate(
        **{
            shown_alias(path): Exists(visible.filter(pk=OuterRef(path)))
            for path in person_paths(records.model, records.query.select_related)
        }
    )


def hide_people(user: User, records: Iterable[Model]) -> None:
    """Put the placeholder in place of every person the records point to that `user` may not
    see: the records' own person fields, those of the related rows they were fetched with, and
    their prefetched lists of people. Records fetched through `with_people_shown` already know;
    for the others, one query, whatever their number.

    For pages that show records, never for records about to be saved."""
    unknown: list[tuple[Model, Field, object]] = []
    lists: list[QuerySet] = []  # prefetched lists of people

    def collect(row: Model, record: Model, path: str, depth: int) -> None:
        for model_field in row._meta.concrete_fields:
            if not (model_field.many_to_one or model_field.one_to_one):
                continue
            at = f"{path}__{model_field.name}" if path else model_field.name
            if model_field.related_model is Person:
                person_id = getattr(row, model_field.attname)
                shown = getattr(record, shown_alias(at), None)
                if person_id is None or shown:
                    continue
                if shown is None:
                    unknown.append((row, model_field, person_id))
                else:
                    model_field.set_cached_value(row, HIDDEN)
            elif depth < DEPTH and model_field.is_cached(row):
                related = model_field.get_cached_value(row)
                if related is not None:
                    collect(related, record, at, depth + 1)
        prefetched = getattr(row, "_prefetched_objects_cache", {})
        for model_field in row._meta.many_to_many:
            if model_field.related_model is Person and model_field.name in prefetched:
                lists.append(prefetched[model_field.name])

    for record in records:
        collect(record, record, "", 0)
    ids = {person_id for _row, _field, person_id in unknown}
    for people in lists:
        ids.update(person.pk for person in people)
    if not ids:
        return
    visible = set(Person.objects.for_user(user).filter(pk__in=ids).values_list("pk", flat=True))
    for row, model_field, person_id in unknown:
        if person_id not in visible:
            model_field.set_cached_value(row, HIDDEN)
    for people in lists:
        people._result_cache = [p if p.pk in visible else HIDDEN for p in people]


def person_search(model: type[Model], name: str, query: str, user: User) -> Q:
    """The search condition of `name` (a lookup path such as "person__full_name"): a path
    through a person matches only people the user may see, so a search cannot tell that a
    record is about someone the page no longer names."""
    condition = Q(**{f"{name}__icontains": query})
    parts = name.split("__")
    current = model
    for depth, part in enumerate(parts[:-1], start=1):
        model_field = current._meta.get_field(part)
        if not model_field.is_relation:
            break
        if model_field.related_model is Person:
            path = "__".join(parts[:depth])
            return condition & Q(**{f"{path}__in": Person.objects.for_user(user).values("pk")})
        current = model_field.related_model
    return condition


def hide_people_in_choices(field: forms.ModelChoiceField, user: User) -> None:
    """Option labels that name a person (an enterprise with its owner) name only the people
    `user` may see. Call it once the field's queryset is set."""

    class Choices(ModelChoiceIterator):
        def __iter__(self):
            if self.field.empty_label is not None:
                yield ("", self.field.empty_label)
            rows = list(self.queryset)
            hide_people(user, rows)
            for row in rows:
                yield self.choice(row)

    field.queryset = with_people_shown(field.queryset, user)
    field.iterator = Choices
    field.widget.choices = field.choices

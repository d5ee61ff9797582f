import uuid

from django.http import Http404

from migrants.models import Episode, Person


def get_person_for_user_or_404(user, pk: str | uuid.UUID, *, deleted: bool = False) -> Person:
    """ "Does not exist" and "not yours" are the same 404. Deleted records only on request."""
    people = Person.objects.for_user(user).select_related("village__parent__parent__parent")
    if not deleted:
        people = people.alive()
    person = people.filter(pk=pk).first()
    if person is None:
        raise Http404
    return person


def get_episode_for_user_or_404(user, person: Person, pk: str | uuid.UUID) -> Episode:
    episode = Episode.objects.filter(person=person, pk=pk).first()
    if episode is None:
        raise Http404
    return episode

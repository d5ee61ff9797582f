from django.http import Http404

from villages.models import Designation


def get_designation_for_user_or_404(user, code: str) -> Designation:
    """ "Does not exist" and "not yours" look the same: a 404."""
    designation = (
        Designation.objects.for_user(user)
        .select_related("village__parent__parent__parent", "variant")
        .filter(village_id=code)
        .first()
    )
    if designation is None:
        raise Http404
    return designation

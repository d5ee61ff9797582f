"""The one rule of who may see which rows: the region-code prefix of the user's scope.

Every scoped model's QuerySet has `for_user(user)`, built on `scope_filter` below; views,
admin, exports, reports and tasks all go through it.
"""

from django.db.models import Q


def scope_prefix(user) -> str | None:
    """The region code that bounds the user's rows, or None for the whole country."""
    if user.is_national:
        return None
    return user.scope_id


def scope_filter(user, village_path: str) -> Q | None:
    """A Q limiting rows whose village is reached through `village_path` to the user's scope.

    `village_path` names the foreign key to the village, e.g. `village` or `person__village`.
    Returns None when the user may see nothing (anonymous, inactive, no role).
    Region codes are primary keys, so the filter is a prefix on the row's own foreign-key
    column (Django trims the join), served by its `varchar_pattern_ops` index on PostgreSQL.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not user.role and not user.is_superuser:
        return None
    prefix = scope_prefix(user)
    if prefix is None:
        return Q()
    if len(prefix) == 13:  # a village: PP.KK.CC.DDDD
        return Q(**{village_path: prefix})
    return Q(**{f"{village_path}__code__startswith": prefix + "."})


def region_scope_filter(user, region_path: str) -> Q | None:
    """A Q for rows that carry a region of any level (an account's scope, an import's area):
    that region must be the user's scope or lie under it. None when the user may see nothing;
    rows without a region (national ones) only for national users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not user.role and not user.is_superuser:
        return None
    prefix = scope_prefix(user)
    if prefix is None:
        return Q()
    return Q(**{region_path: prefix}) | Q(**{f"{region_path}__code__startswith": prefix + "."})

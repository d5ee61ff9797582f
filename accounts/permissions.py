"""What a role may do. Which rows it may do it to is the scope's business (accounts.scope)."""

from enum import StrEnum

from accounts.models import Role


class Action(StrEnum):
    VIEW_VILLAGES = "view_villages"
    MANAGE_USERS = "manage_users"
    MANAGE_DESIGNATIONS = "manage_designations"
    USE_ADMIN = "use_admin"
    VIEW_REGISTER = "view_register"
    EDIT_REGISTER = "edit_register"
    VERIFY_REGISTER = "verify_register"
    REVEAL_NIK = "reveal_nik"
    VIEW_CHILDREN = "view_children"
    RESTORE_DELETED = "restore_deleted"
    MERGE_DUPLICATES = "merge_duplicates"
    TRANSFER_IN_REGENCY = "transfer_in_regency"
    TRANSFER_ANYWHERE = "transfer_anywhere"
    IMPORT_REGISTER = "import_register"
    UNDO_IMPORT = "undo_import"
    EXPORT_REGISTER = "export_register"
    VIEW_PILLARS = "view_pillars"
    EDIT_PILLARS = "edit_pillars"
    VIEW_CASES = "view_cases"
    EDIT_CASES = "edit_cases"
    SUBMIT_REPORT = "submit_report"
    VERIFY_REPORT = "verify_report"
    MANAGE_PROGRAMME = "manage_programme"


_READERS = {
    Action.VIEW_VILLAGES,
    Action.VIEW_REGISTER,
    Action.EXPORT_REGISTER,
    Action.VIEW_PILLARS,
}
# Those who work with the village's own people see children and full NIKs (on request, logged).
_VILLAGE_WORK = {Action.VIEW_CHILDREN, Action.REVEAL_NIK}
_REGENCY_WORK = _VILLAGE_WORK | {
    Action.EDIT_REGISTER,
    Action.VERIFY_REGISTER,
    Action.RESTORE_DELETED,
    Action.MERGE_DUPLICATES,
    Action.TRANSFER_IN_REGENCY,
    Action.IMPORT_REGISTER,
    Action.UNDO_IMPORT,
    Action.EDIT_PILLARS,
    # Cases and complaints (trafficking, deaths) are for those who handle them: the village
    # officer, the regency coordinator and the ministry; not the village head, the province
    # or evaluators, who read their counts only.
    Action.VIEW_CASES,
    Action.EDIT_CASES,
    Action.VERIFY_REPORT,
}

POLICY: dict[str, set[Action]] = {
    Role.VILLAGE_OFFICER: _READERS
    | _VILLAGE_WORK
    | {
        Action.EDIT_REGISTER,
        Action.IMPORT_REGISTER,
        Action.EDIT_PILLARS,
        Action.VIEW_CASES,
        Action.EDIT_CASES,
        Action.SUBMIT_REPORT,
    },
    Role.VILLAGE_HEAD: _READERS | _VILLAGE_WORK,
    Role.COORDINATOR: _READERS | _REGENCY_WORK | {Action.MANAGE_USERS, Action.USE_ADMIN},
    Role.PROVINCE_VIEWER: _READERS,
    Role.EVALUATOR: _READERS,
    Role.MINISTRY_ADMIN: _READERS
    | _REGENCY_WORK
    | {
        Action.MANAGE_USERS,
        Action.MANAGE_DESIGNATIONS,
        Action.USE_ADMIN,
        Action.TRANSFER_ANYWHERE,
        Action.MANAGE_PROGRAMME,
    },
}

# The roles each role may hand out when it creates an account.
GRANTABLE_ROLES: dict[str, list[str]] = {
    Role.COORDINATOR: [Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD],
    Role.MINISTRY_ADMIN: list(Role.values),
}


def can(user, action: Action) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return action in POLICY.get(user.role, set())


def grantable_roles(user) -> list[str]:
    if user.is_superuser:
        return list(Role.values)
    return GRANTABLE_ROLES.get(user.role, [])


def require(user, action: Action) -> None:
    """Raise PermissionDenied (a 403 page) unless the user's role allows the action."""
    from django.core.exceptions import PermissionDenied

    if not can(user, action):
        raise PermissionDenied

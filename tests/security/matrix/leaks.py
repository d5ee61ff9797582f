"""What a response shows, as text, and which of the world's people it names that the persona
may not see.

Files are read as their users read them: an xlsx is unzipped (its shared strings and sheets),
CSV and JSON are text. PDFs are not searched: WeasyPrint writes glyph runs, not the text
(the reports are checked through their xlsx twin).
"""

import io
import re
import zipfile

from tests.security.matrix.world import SCOPES, SEES_CHILDREN, World

ANONYMOUS_PERSONAS = ("anonymous", "deactivated_officer")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A NIK or No. KK (16 digits), masked or not, and a name of the world (they end in "matrix").
_NUMBER = re.compile(r"(?<!\d)\d{16}(?!\d)|(?<!\d)\d{4}•{8}\d{4}(?!\d)")
# (Each starts where a word starts: a long run of letters, such as an inline image's base64,
# costs one pass, not one per letter.)
_NAME = re.compile(r"(?<![a-z])[a-z]+ [a-z]+matrix", re.IGNORECASE)
# The accounts' e-mail addresses (all of the test world's are @example.org).
_EMAIL = re.compile(r"(?<![a-z0-9_.+-])[a-z0-9_.+-]+@example\.org", re.IGNORECASE)


def body_text(response) -> str:
    """The response as text (headers included: a file name is shown too)."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    content_type = response.get("Content-Type", "")
    # The request id is random hex, which now and then holds a run of 16 digits.
    headers = " ".join(f"{k}: {v}" for k, v in response.items() if k != "X-Request-ID")
    if content_type.startswith(XLSX) or content[:2] == b"PK":
        return headers + "\n" + _xlsx_text(content)
    if content_type.startswith("application/pdf"):
        return headers
    return headers + "\n" + content.decode("utf-8", errors="replace")


def _xlsx_text(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return content.decode("utf-8", errors="replace")
    return "\n".join(
        archive.read(name).decode("utf-8", errors="replace")
        for name in archive.namelist()
        if name.endswith(".xml")
    )


def shown(text: str) -> set[str]:
    """The numbers and world names in a text, names lower-cased."""
    return (
        set(_NUMBER.findall(text))
        | {name.lower() for name in _NAME.findall(text)}
        | {email.lower() for email in _EMAIL.findall(text)}
    )


def forbidden(world: World, persona: str) -> set[str]:
    """What must never reach the persona: every identifier of people outside its scope (or
    children, for roles that do not work with them), and full numbers for roles that may not
    see them even inside it."""
    strings: set[str] = set()
    for person in world.people:
        if not person.visible_to(persona):
            strings.update(person.identifiers())
        elif persona not in SEES_CHILDREN:
            strings.update(number for number in (person.nik, person.kk) if number)
    # The accounts of other areas: their e-mail addresses are theirs to give.
    scope = SCOPES.get(persona)
    for user in world.users.values():
        if user.scope_id is None or user.email == getattr(world.user(persona), "email", None):
            continue
        if persona in ANONYMOUS_PERSONAS or (
            scope is not None
            and user.scope_id != scope
            and not user.scope_id.startswith(scope + ".")
        ):
            strings.add(user.email)
    return {s.lower() for s in strings}


def full_numbers(world: World, persona: str) -> set[str]:
    """The full NIKs and No. KKs of the people the persona sees: shown only on request."""
    return {
        number
        for person in world.people
        if person.visible_to(persona)
        for number in (person.nik, person.kk)
        if number
    }


def leaked(text: str, banned: set[str], asked: str = "") -> set[str]:
    """The banned strings the text shows, less those the request itself carried (a search for
    a NIK shows the NIK in its search box)."""
    asked = asked.lower()
    return {s for s in shown(text) & banned if s not in asked}

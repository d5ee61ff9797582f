"""Reading the pages as a browser would, without a browser: the forms (their action, method and
the values they would send as rendered), the links, and the signs the app puts on a page that
is still working (its `data-refresh-seconds` box). The standard library only, so the locust
process stays light."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    classes: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # what the form sends as rendered
    options: dict[str, list[str]] = field(default_factory=dict)  # a select's (or radios') values
    required: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_chosen = False
        self._option: str | None = None
        self._option_selected = False
        self._option_text = ""
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=a.get("action", ""),
                method=a.get("method", "get").lower(),
                classes=a.get("class", ""),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if "required" in a:
                form.required.add(name)
            if kind == "file":
                form.files.append(name)
            elif kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                form.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_chosen = name, False
            form.options[name] = []
            if "required" in a:
                form.required.add(name)
        elif tag == "option" and self._select:
            self._option = a.get("value")
            self._option_selected = "selected" in a
            self._option_text = ""
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
            if "required" in a:
                form.required.add(name)

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data
        if self._option is not None:
            self._option_text += data

    def _close_option(self):
        if self._form is None or self._select is None:
            return
        value = self._option if self._option is not None else self._option_text.strip()
        self._form.options[self._select].append(value)
        if self._option_selected or (
            not self._select_chosen and self._select not in self._form.fields
        ):
            self._form.fields[self._select] = value
            self._select_chosen = self._select_chosen or self._option_selected
        self._option = None
        self._option_selected = False

    def handle_endtag(self, tag):
        if tag == "option" and self._select:
            self._close_option()
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields[self._textarea] = self._text.strip("\n")
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form(html: str, action: str = "", *, method: str = "post", classes: str = "") -> Form | None:
    """The first form whose action contains `action` (and whose class contains `classes`); the
    language switch and the sign-out button of every page only when asked for by action."""
    for candidate in forms(html):
        if (
            action in candidate.action
            and candidate.method == method
            and classes in candidate.classes
            and not any(
                skip in candidate.action and skip not in action
                for skip in ("/i18n/setlang/", "/accounts/logout/")
            )
        ):
            return candidate
    return None


def links(html: str, pattern: str) -> list[str]:
    """Every href matching the regular expression `pattern` (in page order, no duplicates)."""
    seen: dict[str, None] = {}
    for href in re.findall(r'href="([^"]+)"', html):
        if re.fullmatch(pattern, href.replace("&amp;", "&")):
            seen[href.replace("&amp;", "&")] = None
    return list(seen)


def refreshing(html: str) -> bool:
    """The page says it is still working (an import being checked, a report being built)."""
    return "data-refresh-seconds=" in html


def csrf(html: str) -> str | None:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else None


def totp_code(secret: str, counter: int, digits: int = 6) -> str:
    """The authenticator app's code (RFC 6238, SHA-1, 30-second steps) for step `counter`."""
    import base64
    import hashlib
    import hmac
    import struct

    key = base64.b32decode(secret.encode("ascii"), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"

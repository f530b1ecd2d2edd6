"""An editor in the admin over HTTP, as a browser is one, for `run_soak`: a session cookie, forms
posted back with every field as the page shows it, and what each save's answer means."""

import http.client
import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser

from django.urls import reverse

from sources.editing import CONFLICT as CONFLICT_MESSAGE

# What a save's answer means.
SAVED = "saved"  # a redirect to the list of records: the admin saved it
CONFLICT = "conflict"  # the form again, saying someone else saved the record since it was opened
REFUSED = "refused"  # the form again, with another error: the record's own checks refused it
UNEXPECTED = "unexpected"  # anything else: a 5xx, a login page, a refused CSRF token


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    location: str
    ms: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class NoAnswer(Exception):
    """The server answered nothing: a timeout, a reset or closed connection, a truncated body."""


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Hands a redirect back instead of following it: a save's redirect is its answer."""

    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url: str, data: bytes | None = None, timeout: float = 120) -> Answer:
    """One request and its whole answer, 4xx and 5xx included; `NoAnswer` when there is none."""
    started = time.perf_counter()
    try:
        try:
            with opener.open(url, data=data, timeout=timeout) as response:
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), error.headers
    except (OSError, http.client.HTTPException) as error:
        raise NoAnswer(error) from error
    return Answer(status, body, headers.get("Location", ""), (time.perf_counter() - started) * 1000)


class FormFields(HTMLParser):
    """The fields a browser sends for the form with this id, untouched, in page order: each named
    input (checked boxes only), each select's chosen options (or a single select's first) and each
    text area, leaving out buttons and disabled fields. The inline formsets' management forms and
    rows are plain inputs among them."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self.select = None  # (name, multiple, chosen values, first value)
        self.textarea = None  # (name, text parts)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "select":
            self.select = (name, "multiple" in attrs, [], None) if name and "disabled" not in attrs else None
        elif tag == "option" and self.select is not None and "disabled" not in attrs:
            name, multiple, chosen, first = self.select
            value = attrs.get("value") or ""
            if "selected" in attrs:
                chosen.append(value)
            self.select = (name, multiple, chosen, value if first is None else first)
        elif tag == "textarea" and name and "disabled" not in attrs:
            self.textarea = (name, [])

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            name, multiple, chosen, first = self.select
            if not chosen and not multiple and first is not None:
                chosen = [first]
            self.fields += [(name, value) for value in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, parts = self.textarea
            # A browser drops a newline right after <textarea>, which Django's widget writes.
            self.fields.append((name, "".join(parts).removeprefix("\r").removeprefix("\n")))
            self.textarea = None


class ErrorMessages(HTMLParser):
    """The text of each error the admin lists on a form it refused (`<ul class="errorlist">`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # how deep inside an error list
        self.messages: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "ul" and "errorlist" in (dict(attrs).get("class") or "").split():
            self.depth = 1
        elif self.depth and tag == "ul":
            self.depth += 1
        elif self.depth and tag == "li":
            self.messages.append("")

    def handle_endtag(self, tag):
        if self.depth and tag == "ul":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.messages:
            self.messages[-1] += data


def error_messages(html: str) -> list[str]:
    parser = ErrorMessages()
    parser.feed(html)
    parser.close()
    return [message.strip() for message in parser.messages if message.strip()]


def form_fields(html: str, form_id: str) -> list[tuple[str, str]] | None:
    """The fields of the form with this id, or None when the page has no such form."""
    parser = FormFields(form_id)
    parser.feed(html)
    parser.close()
    return parser.fields if parser.found else None


def changed(fields: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """The same fields, with the value of each named one replaced."""
    return [(name, changes.get(name, value)) for name, value in fields]


class EditorSession:
    """One editor's browser: a cookie jar, and redirects answered rather than followed."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), KeepRedirects()
        )

    def get(self, path: str) -> Answer:
        return fetch(self.opener, self.base_url + path)

    def post(self, path: str, fields: list[tuple[str, str]]) -> Answer:
        return fetch(self.opener, self.base_url + path, urllib.parse.urlencode(fields).encode())

    def log_in(self, username: str, password: str) -> None:
        path = reverse("admin:login")
        _, fields = self.open_form(path, "login-form")
        if fields is None:
            raise RuntimeError(f"No login form at {path}")
        answer = self.post(path, changed(fields, username=username, password=password))
        if answer.status != 302:
            raise RuntimeError(f"the login form answered {answer.status}")

    def open_form(self, path: str, form_id: str) -> tuple[Answer, list[tuple[str, str]] | None]:
        answer = self.get(path)
        fields = form_fields(answer.text, form_id) if answer.status == 200 else None
        return answer, fields

    def save(
        self, path: str, list_path: str, fields: list[tuple[str, str]], **changes: str
    ) -> tuple[Answer, str]:
        """Posts the change form at `path` back with these changes: the answer and what it means.
        `list_path` is the admin's list of such records, where a save redirects."""
        answer = self.post(path, changed(fields, **changes))
        return answer, save_outcome(answer, list_path)


def save_outcome(answer: Answer, list_path: str) -> str:
    """What the admin's answer to a change form's post means: SAVED, CONFLICT, REFUSED or UNEXPECTED."""
    if answer.status == 302:
        return SAVED if urllib.parse.urlsplit(answer.location).path == list_path else UNEXPECTED
    if answer.status == 200 and 'class="errornote"' in answer.text:
        return CONFLICT if CONFLICT_MESSAGE in answer.text else REFUSED
    return UNEXPECTED

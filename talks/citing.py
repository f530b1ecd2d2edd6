"""How to cite a public record: built once per record (`RecordCitation`), written as plain text,
BibTeX and CSL-JSON for the "Cite this" block of each record page and its downloads.

Records in the archive have no personal authors: the editors compile them, and a citation never
names an author. The archive is named as the container and its publisher (`PUBLISHER`), once here.
Citations are for published records, and for withdrawn ones, marked withdrawn, so that what was
cited before can still be cited; a draft has none (`citation_for`).
"""

import dataclasses
import datetime
import json
import re

from django.utils import timezone

from config.paths import path_to
from sources.models import SourceArticle
from sources.record_base import PublicationStatus
from talks.dataset.export import PACKAGE_TITLE
from talks.models import Claim, Disagreement, Issue, Participant, Release, Round

PUBLISHER = "Parley"
CONTAINER = PACKAGE_TITLE
# Each kind of record a citation names: its name (the prefix of its URL names, `claim_detail`,
# `claim_cite_bib`), the field of its stable key, and the field its address is looked up by.
KINDS = {
    Round: ("round", "slug", "slug"),
    Claim: ("claim", "key", "pk"),
    SourceArticle: ("source", "key", "pk"),
    Participant: ("participant", "slug", "slug"),
    Issue: ("issue", "slug", "slug"),
    Disagreement: ("disagreement", "slug", "slug"),
}
MODELS = {kind: (model, lookup) for model, (kind, _, lookup) in KINDS.items()}
GENRES = {
    "round": "Negotiation round record",
    "claim": "Claim record",
    "source": "Source article record",
    "participant": "Person record",
    "issue": "Issue record",
    "disagreement": "Disagreement record",
}
FORMATS = ("bib", "json")
LONGEST_TITLE = 200  # a claim's text may run to 2,000 characters; a reference list wants a line


@dataclasses.dataclass(frozen=True)
class RecordCitation:
    """Everything a citation of one record says, in no format yet."""

    kind: str  # "claim", "round", ...
    key: str  # the record's stable key: its slug, or its random key for claims and articles
    title: str
    url: str  # the record's permalink, absolute
    first_published: datetime.date | None
    last_changed: datetime.date | None
    # The version of the latest release when it holds the record as it is now; the citation names
    # it as the record's version. `release_note` says how the record stands to the latest release.
    release: str | None
    release_note: str
    accessed: datetime.date
    withdrawn: datetime.date | None
    downloads: dict  # {"bib": path, "json": path}

    @property
    def genre(self) -> str:
        return GENRES[self.kind]

    @property
    def citation_key(self) -> str:
        """Stable across visits and releases: the kind and the record's stable key."""
        return re.sub(r"[^A-Za-z0-9_-]", "-", f"parley-{self.kind}-{self.key}")

    def as_text(self) -> str:
        return plain_text(self)

    def as_bibtex(self) -> str:
        return bibtex(self)

    def as_csl_json(self) -> str:
        return csl_json(self)


def record_title(record) -> str:
    if isinstance(record, Claim):
        label = record.attribution_label
        title = f"{label}: {record.text}" if label else record.text
    elif isinstance(record, SourceArticle):
        title = record.display_headline
    else:
        title = str(record)
    title = " ".join(title.split())
    return title if len(title) <= LONGEST_TITLE else title[: LONGEST_TITLE - 1].rstrip() + "…"


def as_last_published(record):
    """A withdrawn record as readers last saw it, from its history: what was edited after it was
    withdrawn was never public. None when its history holds no published version."""
    version = (
        record.history.filter(publication_status=PublicationStatus.PUBLISHED)
        .order_by("-history_date", "-history_id")
        .first()
    )
    return version.instance if version is not None else None


def latest_release() -> tuple[str, datetime.datetime] | None:
    """The version and date of the newest release, one query; none before the first is cut."""
    return Release.objects.values_list("version", "released_at").first()


def standing_in_release(record, release) -> tuple[str | None, str]:
    """The release that holds `record` as readers see it now, if the latest does, and a note that
    says so: a record published or changed after the latest release is not in it as cited."""
    if release is None:
        return None, "no release of the archive yet"
    version, released_at = release
    if record.withdrawn_at is not None and record.withdrawn_at <= released_at:
        return None, f"withdrawn before release {version}"
    first, last = record.first_published_at, record.public_updated_at or record.first_published_at
    if first is None or first > released_at:
        return None, f"published after the latest release ({version})"
    if last > released_at:
        return None, f"changed since release {version}"
    return version, f"as in release {version}"


def citation_for(request, record, as_published=None) -> RecordCitation | None:
    """The citation of `record` as `request` reaches it; none for a draft (an editor's preview). A
    withdrawn record is cited as it was last published (`as_published`, from `as_last_published`)."""
    if record.publication_status not in (PublicationStatus.PUBLISHED, PublicationStatus.WITHDRAWN):
        return None
    kind, key_field, lookup = KINDS[type(record)]
    first = record.first_published_at
    last = record.public_updated_at or first
    withdrawn = record.publication_status == PublicationStatus.WITHDRAWN
    release, note = standing_in_release(record, latest_release())
    if withdrawn:
        as_published = as_published or as_last_published(record)
        title = (
            record_title(as_published) if as_published else f"Withdrawn {kind} {getattr(record, key_field)}"
        )
    else:
        title = record_title(record)
    return RecordCitation(
        kind=kind,
        key=getattr(record, key_field),
        title=title,
        url=request.build_absolute_uri(record.get_absolute_url()),
        first_published=timezone.localdate(first) if first else None,
        last_changed=timezone.localdate(last) if last else None,
        release=release,
        release_note=note,
        accessed=timezone.localdate(),
        withdrawn=timezone.localdate(record.withdrawn_at) if withdrawn and record.withdrawn_at else None,
        downloads={fmt: path_to(f"{kind}_cite_{fmt}", getattr(record, lookup)) for fmt in FORMATS},
    )


def long_date(date: datetime.date) -> str:
    return f"{date.day} {date:%B %Y}"


def plain_text(citation: RecordCitation) -> str:
    """One paragraph, in the order of most author–date styles, without an author."""
    stop = "" if citation.title[-1:] in (".", "?", "!", "…") else "."
    parts = [f"“{citation.title}{stop}” {citation.genre}, in {CONTAINER}. {PUBLISHER}"]
    if citation.release:
        parts.append(f", release {citation.release}")
    parts.append(".")
    dates = []
    if citation.first_published:
        dates.append(f"first published {long_date(citation.first_published)}")
    if citation.last_changed and citation.last_changed != citation.first_published:
        dates.append(f"last changed {long_date(citation.last_changed)}")
    if dates:
        sentence = "; ".join(dates)
        parts.append(f" {sentence[0].upper()}{sentence[1:]}.")
    if citation.withdrawn:
        parts.append(f" Withdrawn from the archive on {long_date(citation.withdrawn)}.")
    if not citation.release:
        note = citation.release_note
        parts.append(f" {note[0].upper()}{note[1:]}.")
    parts.append(f" {citation.url} (accessed {long_date(citation.accessed)}).")
    return "".join(parts)


BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
BIBTEX_SPECIAL = re.compile("|".join(re.escape(char) for char in BIBTEX_SPECIALS))


def bibtex_escape(text: str) -> str:
    """Text as a BibTeX field's content: LaTeX's special characters written as commands, so that
    braces stay balanced and nothing in a title is read as markup. Non-ASCII is kept as UTF-8."""
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_SPECIALS[match.group()], " ".join(text.split()))


def bibtex_note(citation: RecordCitation) -> str:
    notes = [citation.genre]
    if citation.first_published:
        notes.append(f"first published {citation.first_published.isoformat()}")
    if citation.last_changed and citation.last_changed != citation.first_published:
        notes.append(f"last changed {citation.last_changed.isoformat()}")
    if citation.withdrawn:
        notes.append(f"withdrawn from the archive on {citation.withdrawn.isoformat()}")
    notes.append(citation.release_note)
    return "; ".join(notes)


def bibtex(citation: RecordCitation) -> str:
    """A `@misc` entry (BibTeX's and biblatex's alike; biblatex reads `urldate`, `version`, `date`).
    No author: the archive is named as publisher and in `howpublished`."""
    fields = [
        # Double braces keep the title's capitals (names, places) as they are.
        ("title", "{" + bibtex_escape(citation.title) + "}"),
        ("howpublished", bibtex_escape(CONTAINER)),
        ("publisher", bibtex_escape(PUBLISHER)),
    ]
    if citation.first_published:
        fields += [
            ("year", str(citation.first_published.year)),
            ("date", citation.first_published.isoformat()),
        ]
    if citation.release:
        fields.append(("version", bibtex_escape(citation.release)))
    # Permalinks are Parley's own paths of slugs and numbers: nothing in them needs escaping.
    fields += [
        ("url", citation.url),
        ("urldate", citation.accessed.isoformat()),
        ("note", bibtex_escape(bibtex_note(citation))),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{citation.citation_key},\n{body}\n}}\n"


def date_parts(date: datetime.date) -> dict:
    return {"date-parts": [[date.year, date.month, date.day]]}


def csl_item(citation: RecordCitation) -> dict:
    """One CSL-JSON item of type "entry" (an entry in a database), without an author."""
    item = {
        "id": citation.citation_key,
        "type": "entry",
        "genre": citation.genre,
        "title": citation.title,
        "container-title": CONTAINER,
        "publisher": PUBLISHER,
        "URL": citation.url,
        "accessed": date_parts(citation.accessed),
    }
    if citation.first_published:
        item["issued"] = date_parts(citation.first_published)
    if citation.release:
        item["version"] = citation.release
    if citation.withdrawn:
        item["status"] = "withdrawn"
    item["note"] = bibtex_note(citation)
    return item


def csl_json(citation: RecordCitation) -> str:
    """CSL-JSON as reference managers import it: an array of one item, a field a line (a date's
    parts on its line too, for a reader copying it from the page)."""
    fields = [
        f"    {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}"
        for name, value in csl_item(citation).items()
    ]
    return "[\n  {\n" + ",\n".join(fields) + "\n  }\n]\n"

"""Writing the public corrections log from the history django-simple-history keeps.

Each new historical version of a record is compared with the one before it. A change is public when
readers can see it: publishing, withdrawing, or editing a field readers see of a published record.
A link between records (a citation, a seat, a claim's issue, a claim's speaker) is seen only when
every record it joins is public (`sources.record_base.is_public`, the rule of the `published()`
querysets), so adding or removing a link to a draft is no public change. Editors' internal notes,
article texts and bookkeeping fields are never named.

Within `one_entry_per_record()` (an import, a save in the admin) the entries are collected and each
record gets one, written when the block ends.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from sources.record_base import PublicationStatus, Publishable, is_public
from talks.models import PublicChange

# Fields readers never see; a change to them alone is not a public change.
PRIVATE_FIELDS = {
    "notes",
    "body",
    "created_at",
    "updated_at",
    "first_published_at",
    "public_updated_at",
    "withdrawn_at",
    "withdrawal_reason",
    "publication_status",
    "key",
    "editor_note",
    # The second reading: who changed and who checked are editors' business; the check's date is
    # shown on the claim's page, but recording a check corrects nothing readers saw.
    "content_changed_by",
    "checked_by",
    "checked_on",
}
# Records without a status of their own are part of a parent's public record: the path to the
# parent, and what the parent's entry calls them.
PARENTS = {
    "citation": ("claim", "sources"),
    "delegation": ("round", "delegations"),
    "membership": ("delegation.round", "delegations"),
    "disagreementclaim": ("disagreement", "versions"),
}
PUBLISHED = PublicationStatus.PUBLISHED


def resolve(instance, path):
    for name in path.split("."):
        instance = getattr(instance, name, None)
        if instance is None:
            return None
    return instance


def any_public(model, pks) -> bool:
    pks = [pk for pk in pks if pk is not None]
    return bool(pks) and any(is_public(record) for record in model._default_manager.filter(pk__in=pks))


def seen_by_readers(model, change) -> bool:
    """Whether a change of one field of a public record shows: a reference or a set of links changed
    to or from a public record, or any other field readers see."""
    if change.field in PRIVATE_FIELDS:
        return False
    model_field = model._meta.get_field(change.field)
    if model_field.many_to_many:
        through = model_field.remote_field.through
        rows = {frozenset(row.items()) for row in change.old} ^ {frozenset(row.items()) for row in change.new}
        links = [through(**{through._meta.get_field(name).attname: pk for name, pk in row}) for row in rows]
        return any(is_public(link) for link in links)
    if model_field.is_relation:
        return any_public(model_field.related_model, [change.old, change.new])
    return True


def public_changes(history_record) -> list:
    """The changes of this version that readers see, against the version before it, in the order
    of the model's fields."""
    previous = history_record.prev_record
    if previous is None:
        return []
    model = history_record.instance_type
    order = [model_field.name for model_field in model._meta.get_fields()]
    changes = sorted(history_record.diff_against(previous).changes, key=lambda c: order.index(c.field))
    return [change for change in changes if seen_by_readers(model, change)]


def described(model, change) -> str:
    """A field's change as a reader sees it: "stance changed: supports → disputes"."""
    model_field = model._meta.get_field(change.field)
    name = str(model_field.verbose_name)
    if model_field.choices:
        labels = dict(model_field.flatchoices)
        old, new = (str(labels.get(value, value) or "none").lower() for value in (change.old, change.new))
        return f"{name} changed: {old} → {new}"
    return f"{name} changed"


@dataclass
class Entry:
    """What one record's entry in the log will say, gathered from each of its changes."""

    record: object
    kind: str
    at: object
    changes: dict = field(default_factory=dict)  # what changed → details, in order
    notes: list = field(default_factory=list)

    def add(self, record, kind, changes, note, at):
        self.record, self.at = record, max(self.at, at)
        if kind != PublicChange.Kind.UPDATED:
            self.kind = kind  # publishing, withdrawing or deleting is the news; the last one stands
        for name, detail in changes:
            details = self.changes.setdefault(name, [])
            if detail and detail not in details:
                details.append(detail)
        if note and note not in self.notes:
            self.notes.append(note)

    def changed_fields(self) -> str:
        if self.kind != PublicChange.Kind.UPDATED:
            return ""  # a first publication, say, changes nothing readers saw before
        return ", ".join(
            f"{name} ({'; '.join(details)})" if details else name for name, details in self.changes.items()
        )


def stable_key(record) -> str:
    """The key researchers and imports know a record by (talks/dataset/tables.py): a claim's or an
    article's `key`, any other record's slug."""
    return getattr(record, "key", None) or getattr(record, "slug", None) or ""


class Log:
    """The entries of the changes being made, one per record, until they are written."""

    def __init__(self):
        self.entries: dict[tuple, Entry] = {}

    def add(self, record, kind, changes, note, at):
        key = (record._meta.label, record.pk)
        entry = self.entries.setdefault(key, Entry(record, kind, at))
        entry.add(record, kind, changes, note, at)

    def write(self):
        entries = list(self.entries.values())
        self.entries.clear()
        PublicChange.objects.bulk_create(
            PublicChange(
                at=entry.at,
                kind=entry.kind,
                record_type=str(entry.record._meta.verbose_name),
                record_label=str(entry.record)[:300],
                record_path=entry.record.get_absolute_url(),
                record_key=stable_key(entry.record),
                changed_fields=entry.changed_fields()[:500],
                note=" ".join(entry.notes),
            )
            for entry in entries
        )
        for entry in entries:
            if entry.kind not in (PublicChange.Kind.WITHDRAWN, PublicChange.Kind.DELETED):
                type(entry.record).objects.filter(pk=entry.record.pk).update(public_updated_at=entry.at)


_collecting: contextvars.ContextVar[Log | None] = contextvars.ContextVar("public_changes", default=None)


@contextmanager
def one_entry_per_record():
    """One transaction whose public changes are one entry per record: a claim published with its
    citations and issues is one "Published", a citation's stance and note corrected together one
    "Updated". The entries are written at the end, in the same transaction; nothing is written if
    the block fails. Nested, the outermost block writes."""
    if _collecting.get() is not None:
        yield
        return
    gathered = Log()
    token = _collecting.set(gathered)
    try:
        with transaction.atomic():
            yield
            gathered.write()
    finally:
        _collecting.reset(token)


def log(record, kind, changes=(), note="", at=None):
    """Add an entry for `record`; `changes` are (what changed, detail or "") pairs."""
    at = at or timezone.now()
    collecting = _collecting.get()
    if collecting is not None:
        collecting.add(record, kind, changes, note, at)
        return
    single = Log()
    single.add(record, kind, changes, note, at)
    single.write()


def record_public_change(sender, history_instance, **kwargs):
    """Connected to simple-history's post_create_historical_record signal."""
    record = history_instance.instance
    note = history_instance.history_change_reason or ""
    at = history_instance.history_date
    if isinstance(record, Publishable):
        previous = history_instance.prev_record
        was = previous.publication_status if previous else None
        now = record.publication_status
        if history_instance.history_type == "-":
            if was == PUBLISHED:
                log(record, PublicChange.Kind.DELETED, note=note, at=at)
        elif now == PUBLISHED and was != PUBLISHED:
            log(record, PublicChange.Kind.PUBLISHED, note=note, at=at)
        elif now == PublicationStatus.WITHDRAWN and was == PUBLISHED:
            log(record, PublicChange.Kind.WITHDRAWN, note=record.withdrawal_reason or note, at=at)
        elif now == PUBLISHED and history_instance.history_type == "~":
            model = history_instance.instance_type
            changed = [
                (str(model._meta.get_field(change.field).verbose_name), "")
                for change in public_changes(history_instance)
            ]
            if changed:
                log(record, PublicChange.Kind.UPDATED, changed, note=note, at=at)
        return
    if record._meta.model_name in PARENTS:
        log_link_change(history_instance, note, at)


def log_link_change(history_instance, note, at):
    """A link (a citation, a seat, a version of a disagreement) added, removed or changed is a change
    of its parent when readers saw the link before or see it now."""
    parent_path, label = PARENTS[history_instance.instance._meta.model_name]
    kind = history_instance.history_type
    previous = history_instance.prev_record
    if kind == "~" and previous is None:
        return  # no earlier version to compare with
    before = history_instance.instance if kind == "-" else previous.instance if kind == "~" else None
    after = history_instance.instance if kind != "-" else None
    was_seen, is_seen = is_public(before), is_public(after)
    before_parent = resolve(before, parent_path) if was_seen else None
    after_parent = resolve(after, parent_path) if is_seen else None
    if was_seen and is_seen and before_parent.pk == after_parent.pk:
        model = history_instance.instance_type
        details = [described(model, change) for change in public_changes(history_instance)]
        if details:
            changes = [(label, detail) for detail in details]
            log(after_parent, PublicChange.Kind.UPDATED, changes, note=note, at=at)
        return
    for parent in (before_parent, after_parent):
        if parent is not None:
            log(parent, PublicChange.Kind.UPDATED, [(label, "")], note=note, at=at)

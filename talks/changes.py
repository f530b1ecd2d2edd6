"""Writing the public corrections log from the history django-simple-history keeps.

Each new historical version of a record is compared with the one before it. A change is public when
the record was or becomes published: publishing, withdrawing, or editing a field readers see. Editors'
internal notes, article texts and bookkeeping fields are never named.
"""

from django.utils import timezone

from sources.records import PublicationStatus, Publishable

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
# Records without a status of their own are part of a parent's public record.
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


def public_field_changes(history_record) -> list[str]:
    previous = history_record.prev_record
    if previous is None:
        return []
    delta = history_record.diff_against(previous)
    names = [change.field for change in delta.changes if change.field not in PRIVATE_FIELDS]
    model = history_record.instance_type
    return [str(model._meta.get_field(name).verbose_name) for name in names]


def log(record, kind, changed_fields=(), note="", at=None):
    from talks.models import PublicChange

    at = at or timezone.now()
    PublicChange.objects.create(
        at=at,
        kind=kind,
        record_type=str(record._meta.verbose_name),
        record_label=str(record)[:300],
        record_path=record.get_absolute_url(),
        changed_fields=", ".join(changed_fields)[:500],
        note=note,
    )
    if kind not in (PublicChange.Kind.WITHDRAWN, PublicChange.Kind.DELETED):
        type(record).objects.filter(pk=record.pk).update(public_updated_at=at)


def record_public_change(sender, history_instance, **kwargs):
    """Connected to simple-history's post_create_historical_record signal."""
    from talks.models import PublicChange

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
            changed = public_field_changes(history_instance)
            if changed:
                log(record, PublicChange.Kind.UPDATED, changed, note=note, at=at)
        return
    parent_path, label = PARENTS.get(record._meta.model_name, (None, None))
    parent = resolve(record, parent_path) if parent_path else None
    if history_instance.history_type == "~" and not public_field_changes(history_instance):
        return  # an editor's note on a citation, say: nothing readers see changed
    claim = getattr(record, "claim", None) if record._meta.model_name == "disagreementclaim" else None
    if claim is not None and claim.publication_status != PUBLISHED:
        return  # a draft claim's version of a disagreement is not shown
    if parent is not None and parent.publication_status == PUBLISHED:
        log(parent, PublicChange.Kind.UPDATED, [label], note=note, at=at)

"""How editors change the archive in the admin: history, public notes, no silent overwrites, and
publishing reserved to those allowed.

Every archive ModelAdmin builds on `ArchiveAdmin` (records without a publication status) or
`PublishableAdmin` (rounds, claims, articles, people, issues).
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import localize
from simple_history.admin import SimpleHistoryAdmin

from sources.record_base import MAX_NOTE, PublicationStatus

EDITING_FIELDS = ["change_note", "loaded_version"]
ABSENT = "absent"  # the version a form shows of a record deleted since: none is stored
# Kept by the archive itself: shown to editors, never edited.
RECORD_FIELDS = ["created_at", "updated_at", "first_published_at", "public_updated_at", "withdrawn_at"]
# How a refused save over a newer one begins; `run_soak` tells refusals apart by it.
CONFLICT = "Someone else saved this record after you opened it"


def current_version(model, pk, lock: bool = False) -> str:
    """The version an editor's form was built from: the record's last save time, to the microsecond.

    `lock` holds the record's row until the transaction ends, so that comparing the version and
    saving are one step: under PostgreSQL's READ COMMITTED, two saves that both read the version
    before either wrote would both pass the check, and the later one would wipe out the other's
    change. (SQLite's IMMEDIATE transactions already take one writer at a time.)"""
    rows = model._default_manager.filter(pk=pk)
    if lock and transaction.get_connection().in_atomic_block:
        rows = rows.select_for_update()
    updated = rows.values_list("updated_at", flat=True).first()
    return updated.isoformat() if updated else ""


@dataclass(frozen=True)
class Save:
    """One save of a record, as its history keeps it."""

    user: object  # None for a save by no one logged in: an import, a script
    at: datetime.datetime
    fields: tuple[str, ...]

    def __str__(self):
        return f"{self.who} at {when(self.at)}: {', '.join(self.fields) or 'saved it'}"

    @property
    def who(self) -> str:
        return self.user.get_username() if self.user else "someone"

    def by(self, user) -> bool:
        return user is not None and self.user is not None and self.user.pk == user.pk


def when(moment) -> str:
    return localize(timezone.localtime(moment))


def saves_since(record, version: str) -> list[Save]:
    """The saves of this record after `version`, from its history, oldest first."""
    since = datetime.datetime.fromisoformat(version)
    saves = []
    # By the version each entry records, not by its own date: the history entry of the version
    # loaded is written a moment after that version's `updated_at`, and is no later save.
    for entry in record.history.filter(updated_at__gt=since).order_by("history_date"):
        previous = entry.prev_record
        fields = []
        if previous is not None:
            fields = [
                str(type(record)._meta.get_field(c.field).verbose_name)
                for c in entry.diff_against(previous).changes
            ]
        saves.append(Save(entry.history_user, entry.history_date, tuple(fields)))
    return saves


def conflict_message(saves: list[Save], editor) -> str:
    """Why a form opened before these saves is refused: someone else's changes, named, or the
    editor's own save from another tab, which is no one else's change."""
    mine = [save for save in saves if save.by(editor)]
    others = [save for save in saves if not save.by(editor)]
    if mine and not others:
        times = " and ".join(when(save.at) for save in mine)
        return (
            f"You saved this record in another tab or window at {times}, after you opened this form, "
            "so these changes were not saved. Reload the record to continue from that version."
        )
    message = (
        f"{CONFLICT}, so your changes were not saved: "
        + ("; ".join(map(str, others)) or "its history does not say who")
        + ". Open the record again to see their version, then make your changes again."
    )
    if mine:
        times = " and ".join(when(save.at) for save in mine)
        saves, are = ("saves", "are") if len(mine) > 1 else ("save", "is")
        message += f" Your own {saves} at {times} {are} in that version too."
    return message


class VersionedForm(forms.ModelForm):
    """Refuses a save over someone else's newer one: the form carries the version it shows.

    Rows edited within another record's form (a round's seats, a claim's citations) use it too, so
    that a seat changed on its own page meanwhile is not saved over. Their versions are compared
    without locking them: the record whose form it is is locked, and a row's own page locking the
    row and then its parent, the other way round, could deadlock."""

    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)
    editor = None  # who fills in the form; ArchiveAdmin sets it
    locks = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.version_shown()

    def version_shown(self) -> str:
        """The version of the record this form shows: the one the page loaded, not whatever is
        stored by the time the form is built. Reading it again would let a save committed in between
        pass as the version shown, and the form's older text would then overwrite it."""
        if getattr(self.instance, "_history", None) is None and self.instance.updated_at:
            return self.instance.updated_at.isoformat()
        # A version restored from history is judged against what is stored now, which restoring it
        # replaces: a later version, or nothing at all for a deleted record.
        return current_version(type(self.instance), self.instance.pk) or ABSENT

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_version")
        if self.instance.pk and loaded:
            current = current_version(type(self.instance), self.instance.pk, lock=self.locks) or ABSENT
            if current == loaded:
                return cleaned
            if current == ABSENT:
                raise ValidationError(
                    "This record was deleted after you opened it, so your changes were not saved. "
                    "If it should be kept, restore it from its history."
                )
            if loaded == ABSENT:
                raise ValidationError(
                    "Someone restored this record after you opened this version of it, so it was not "
                    "restored again over theirs. Open its history again to see it as it is now."
                )
            record = type(self.instance).objects.get(pk=self.instance.pk)
            raise ValidationError(conflict_message(saves_since(record, loaded), self.editor))
        return cleaned


class ArchiveForm(VersionedForm):
    """A record's own form: its version check locks the row, and it keeps a public note."""

    change_note = forms.CharField(
        label="Public note on this change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Shown in the public corrections log when readers can see this change. "
        "Internal remarks belong in the editor's notes.",
    )
    locks = True


class ArchiveAdmin(SimpleHistoryAdmin):
    """History with who, when and which fields; revert; a public note; no silent overwrite."""

    form = ArchiveForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.editor = request.user  # a class made for this request by modelform_factory
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in EDITING_FIELDS]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        return [*fieldsets, ("This change", {"fields": EDITING_FIELDS})]

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data.get("change_note", "")
        deleted = restoring_deleted(obj)
        super().save_model(request, obj, form, change)
        if deleted:
            restored, left = restore_deleted_with(obj)
            if restored:
                self.message_user(request, "Restored with it: " + ", ".join(restored) + ".")
            for reason in left:
                self.message_user(request, f"Not restored: {reason}.", messages.WARNING)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            exists = self.model._default_manager.filter(pk=unquote(object_id)).exists()
            if not (self.has_change_permission(request) and (exists or self.has_add_permission(request))):
                raise PermissionDenied(
                    "You are not allowed to restore this record: your role may view its history but "
                    "not change it. Ask a chief editor."
                )
        # In one transaction, as Django's own change form: the version check locks the row until the
        # revert is saved (see current_version).
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)


# Records deleted with another (a claim's citations, a round's delegations) are deleted in the same
# call; their history entries fall within this time of the record's own.
DELETED_TOGETHER = datetime.timedelta(seconds=5)


def restore_deleted_with(record) -> tuple[list[str], list[str]]:
    """Bring back what was deleted with `record`, now restored from its history: the records whose
    deletion cascaded from its own, from their last versions. Returns what was restored, by kind,
    and why any could not be."""
    deletion = (
        type(record)
        .history.filter(**{record._meta.pk.attname: record.pk}, history_type="-")
        .order_by("-history_date")
        .first()
    )
    if deletion is None:
        return [], []
    counts, left = {}, []
    restore_children(record, deletion.history_date, counts, left)
    restored = [f"{count} {name if count == 1 else plural}" for (name, plural), count in counts.items()]
    return restored, left


def restore_children(record, deleted_at, counts: dict, left: list) -> None:
    for relation in record._meta.related_objects:
        model = relation.related_model
        if relation.many_to_many or relation.on_delete is not models.CASCADE:
            continue
        if not hasattr(model._meta, "simple_history_manager_attribute"):
            continue  # a claim's issue links come back with the claim's own version
        entries = model.history.filter(
            **{relation.field.attname: record.pk},
            history_type="-",
            history_date__range=(deleted_at - DELETED_TOGETHER, deleted_at + DELETED_TOGETHER),
        ).order_by("history_date")
        back = set(
            model._default_manager.filter(pk__in=[entry.id for entry in entries]).values_list("pk", flat=True)
        )
        for entry in entries:
            if entry.id in back:
                continue
            child = entry.instance
            missing = missing_references(child, ignore=relation.field.name)
            if missing:
                left.append(f"{model._meta.verbose_name} #{child.pk}, whose {missing} was deleted since")
                continue
            child._change_reason = "Restored with the record it belongs to."
            child.save()
            back.add(child.pk)
            key = (str(model._meta.verbose_name), str(model._meta.verbose_name_plural))
            counts[key] = counts.get(key, 0) + 1
            restore_children(child, entry.history_date, counts, left)


def missing_references(record, ignore: str) -> str:
    """The first field of `record` that points to a record no longer there ("" if none)."""
    for field in record._meta.concrete_fields:
        if not field.is_relation or field.name == ignore:
            continue
        value = getattr(record, field.attname)
        if value is not None and not field.related_model._default_manager.filter(pk=value).exists():
            return str(field.verbose_name)
    return ""


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are these records withdrawn?",
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Public: shown at each record's address and in the corrections log.",
    )


def restoring_deleted(record) -> bool:
    """Whether `record` is a version restored from history of a record deleted since."""
    return (
        record is not None
        and getattr(record, "_history", None) is not None
        and not type(record)._default_manager.filter(pk=record.pk).exists()
    )


def keep_publication_state(record) -> None:
    """For an editor who may not publish: the record keeps the publication state it has; a new
    record, or a deleted one restored from its history, is a draft."""
    stored = None
    if record.pk is not None:
        stored = (
            type(record)
            ._default_manager.filter(pk=record.pk)
            .values("publication_status", "withdrawal_reason")
            .first()
        )
    if stored is None:
        record.publication_status, record.withdrawal_reason = PublicationStatus.DRAFT, ""
    else:
        for field, value in stored.items():
            setattr(record, field, value)


class PublishableAdmin(ArchiveAdmin):
    """Editors write drafts; only those with the publish permission publish and withdraw."""

    actions = ["publish_selected", "withdraw_selected"]

    def has_publish_permission(self, request, obj=None):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")

    def keeps_publication_state(self, request, obj) -> bool:
        """Whether this form leaves the record's publication state as stored: always for those who
        may not publish, and for everyone restoring a deleted record, which comes back a draft and
        is published again only through the publishing rules."""
        return not self.has_publish_permission(request) or restoring_deleted(obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self.keeps_publication_state(request, obj):
            fields += ["publication_status", "withdrawal_reason"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not self.keeps_publication_state(request, obj):
            return form

        class KeepingPublicationState(form):
            """Validated as it will be saved: a version restored from history that was published is
            judged as the draft it becomes, not refused as an unchecked publication."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                keep_publication_state(self.instance)

        return KeepingPublicationState

    def save_model(self, request, obj, form, change):
        # Holds for every way a form can save, reverting an old version from history included.
        if self.keeps_publication_state(request, obj):
            if restoring_deleted(obj) and obj._history.publication_status != PublicationStatus.DRAFT:
                self.message_user(
                    request, "Restored as a draft: publish it again once it meets the publishing rules."
                )
            keep_publication_state(obj)
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish the selected records", permissions=["publish"])
    def publish_selected(self, request, queryset):
        published, refused = 0, []
        for record in queryset:
            problems = record.publication_problems()
            if problems:
                refused.append(f"“{record}”: {'; '.join(problems)}")
                continue
            if not record.is_published:
                record.publication_status = PublicationStatus.PUBLISHED
                record._change_reason = ""
                record.save()
                published += 1
        if published:
            self.message_user(request, f"Published {published} record{'s' if published != 1 else ''}.")
        for refusal in refused:
            self.message_user(request, f"Not published: {refusal}.", messages.ERROR)

    @admin.action(description="Withdraw the selected records…", permissions=["publish"])
    def withdraw_selected(self, request, queryset):
        form = WithdrawForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            count = 0
            for record in queryset.published():
                record.publication_status = PublicationStatus.WITHDRAWN
                record.withdrawal_reason = reason
                record._change_reason = reason
                record.save()
                count += 1
            self.message_user(request, f"Withdrew {count} record{'s' if count != 1 else ''}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Withdraw records",
            "opts": self.opts,
            "records": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/withdraw_confirmation.html", context)

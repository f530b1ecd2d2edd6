"""How editors change the archive in the admin: history, public notes, no silent overwrites, and
publishing reserved to those allowed.

Every archive ModelAdmin builds on `ArchiveAdmin` (records without a publication status) or
`PublishableAdmin` (rounds, claims, articles, people, issues).
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import localize
from simple_history.admin import SimpleHistoryAdmin

from sources.records import MAX_NOTE, PublicationStatus

EDITING_FIELDS = ["change_note", "loaded_version"]
# Kept by the archive itself: shown to editors, never edited.
RECORD_FIELDS = ["created_at", "updated_at", "first_published_at", "public_updated_at", "withdrawn_at"]


def current_version(model, pk, lock: bool = False) -> str:
    """The version an editor's form was built from: the record's last save time, to the microsecond.

    `lock` holds the record's row until the transaction ends, so that comparing the version and
    saving are one step: under PostgreSQL's READ COMMITTED, two saves that both read the version
    before either wrote passed the check, and the later one wiped out the other's change. (SQLite's
    IMMEDIATE transactions already take one writer at a time.)"""
    rows = model._default_manager.filter(pk=pk)
    if lock and transaction.get_connection().in_atomic_block:
        rows = rows.select_for_update()
    updated = rows.values_list("updated_at", flat=True).first()
    return updated.isoformat() if updated else ""


def changes_since(record, version: str) -> list[str]:
    """Who changed what in this record after `version`, from its history, newest last."""
    since = datetime.datetime.fromisoformat(version)
    lines = []
    for entry in record.history.filter(history_date__gt=since).order_by("history_date"):
        who = entry.history_user.get_username() if entry.history_user else "someone"
        previous = entry.prev_record
        fields = []
        if previous is not None:
            fields = [
                str(type(record)._meta.get_field(c.field).verbose_name)
                for c in entry.diff_against(previous).changes
            ]
        what = ", ".join(fields) if fields else "saved it"
        lines.append(f"{who} at {localize(timezone.localtime(entry.history_date))}: {what}")
    return lines


class ArchiveForm(forms.ModelForm):
    """Adds the public note kept with the change, and refuses a save over someone else's newer one."""

    change_note = forms.CharField(
        label="Public note on this change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="Shown in the public corrections log when readers can see this change. "
        "Internal remarks belong in the editor's notes.",
    )
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = current_version(type(self.instance), self.instance.pk)

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_version")
        if self.instance.pk and loaded:
            current = current_version(type(self.instance), self.instance.pk, lock=True)
            if current and current != loaded:
                changes = changes_since(type(self.instance).objects.get(pk=self.instance.pk), loaded)
                raise ValidationError(
                    "Someone else saved this record after you opened it, so your changes were not saved: "
                    + "; ".join(changes)
                    + ". Open the record again to see their version, then make your changes again."
                )
        return cleaned


class ArchiveAdmin(SimpleHistoryAdmin):
    """History with who, when and which fields; revert; a public note; no silent overwrite."""

    form = ArchiveForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in EDITING_FIELDS]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        return [*fieldsets, ("This change", {"fields": EDITING_FIELDS})]

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data.get("change_note", "")
        super().save_model(request, obj, form, change)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # In one transaction, as Django's own change form: the version check locks the row until the
        # revert is saved (see current_version).
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are these records withdrawn?",
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Public: shown at each record's address and in the corrections log.",
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

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            fields += ["publication_status", "withdrawal_reason"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if self.has_publish_permission(request):
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
        if not self.has_publish_permission(request):
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
            if record.publication_status != PublicationStatus.PUBLISHED:
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
            for record in queryset.filter(publication_status=PublicationStatus.PUBLISHED):
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

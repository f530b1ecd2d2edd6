from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from nested_admin import NestedModelAdminMixin, NestedStackedInline, NestedTabularInline

from sources.admin import SourceArticleAdmin
from sources.editing import RECORD_FIELDS, ArchiveAdmin, ArchiveForm, PublishableAdmin, VersionedForm
from sources.models import SourceArticle
from talks import publishing, releases
from talks.changes import one_entry_per_record
from talks.models import (
    CHECKED_FIELDS,
    Citation,
    Claim,
    ClaimIssue,
    Delegation,
    Disagreement,
    DisagreementClaim,
    Issue,
    Membership,
    Participant,
    Party,
    PublicChange,
    Release,
    Round,
    Track,
)


def change_link(obj, label=None):
    """A link to the record's own admin page, for read-only lists of related records."""
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def kind_of(record) -> str:
    return str(record._meta.verbose_name).capitalize()


class OneEntryPerSave:
    """An editor's save (a claim with its citations and issues, a round with its delegations, a
    deletion with what it takes along, a bulk action) is one entry per record in the corrections log."""

    def changeform_view(self, request, *args, **kwargs):
        return self.as_one_entry(super().changeform_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self.as_one_entry(super().delete_view, request, *args, **kwargs)

    def history_form_view(self, request, *args, **kwargs):
        return self.as_one_entry(super().history_form_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self.as_one_entry(super().changelist_view, request, *args, **kwargs)

    @staticmethod
    def as_one_entry(view, request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)  # showing a page changes nothing
        with one_entry_per_record():
            return view(request, *args, **kwargs)


@admin.register(Party)
class PartyAdmin(OneEntryPerSave, ArchiveAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Track)
class TrackAdmin(OneEntryPerSave, ArchiveAdmin):
    list_display = ["name", "round_count"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(round_count=Count("rounds"))

    @admin.display(description="rounds", ordering="round_count")
    def round_count(self, track):
        return track.round_count


class SeatInline(NestedTabularInline):
    """The delegation's members, entered where the round is edited."""

    model = Membership
    form = VersionedForm
    fields = ["participant", "role", "title", "loaded_version"]
    autocomplete_fields = ["participant"]
    extra = 0
    verbose_name = "seat"
    verbose_name_plural = "seats"


class DelegationInline(NestedStackedInline):
    model = Delegation
    form = VersionedForm
    fields = [("party", "role"), "notes", "loaded_version"]
    autocomplete_fields = ["party"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}
    extra = 0
    inlines = [SeatInline]


@admin.register(Round)
class RoundAdmin(OneEntryPerSave, NestedModelAdminMixin, PublishableAdmin):
    change_form_template = "admin/talks/round/change_form.html"
    list_display = [
        "title",
        "track",
        "sequence",
        "start_date",
        "end_date",
        "city",
        "format",
        "status",
        "publication_status",
    ]
    list_filter = ["publication_status", "status", "format", "track", "country"]
    list_select_related = ["track"]
    search_fields = ["title", "city", "country", "venue", "track__name", "summary"]
    autocomplete_fields = ["track"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"
    readonly_fields = RECORD_FIELDS
    inlines = [DelegationInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "track", "sequence"]}),
        ("Publication", {"fields": ["publication_status", "withdrawal_reason"]}),
        ("When", {"fields": ["start_date", "end_date", "date_precision", "dates_note"]}),
        ("Where and how", {"fields": ["city", "country", "venue", "format", "status"]}),
        ("What happened", {"fields": ["summary", "outcome"]}),
        (
            "Record",
            {
                "fields": RECORD_FIELDS,
                "classes": ["collapse"],
            },
        ),
    ]

    def get_urls(self):
        publish = path(
            "<path:object_id>/publish-with-drafts/",
            self.admin_site.admin_view(self.publish_with_drafts_view),
            name="talks_round_publish_with_drafts",
        )
        return [publish, *super().get_urls()]

    def may_publish_with_drafts(self, request) -> bool:
        return all(
            request.user.has_perm(f"{model._meta.app_label}.publish_{model._meta.model_name}")
            for model in publishing.PUBLISHED_WITH_A_ROUND
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_publish_with_drafts": self.may_publish_with_drafts(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def publish_with_drafts_view(self, request, object_id):
        """A confirmation page listing what publishing the round would publish and what it cannot
        yet, and why; confirming publishes exactly that list in one transaction."""
        if not self.may_publish_with_drafts(request):
            raise PermissionDenied
        round_ = self.get_object(request, unquote(object_id))
        if round_ is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:talks_round_change", args=[round_.pk])
        if request.method == "POST":
            try:
                with one_entry_per_record():
                    count = publishing.publish(round_, request.POST.get("plan", ""))
            except publishing.PlanChanged:
                self.message_user(
                    request,
                    "The drafts beneath this round changed after this page was shown, so nothing was "
                    "published. Here is what publishing would do now.",
                    messages.WARNING,
                )
            else:
                self.message_user(request, f"Published {count} record{'s' if count != 1 else ''}.")
                return HttpResponseRedirect(change_url)
        plan = publishing.plan_for(round_)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Publish “{round_}” with its drafts",
            "opts": self.opts,
            "original": round_,
            "plan": plan,
            "to_publish": [(kind_of(record), change_link(record)) for record in plan.to_publish],
            "held_back": [
                (kind_of(record), change_link(record), "; ".join(reasons))
                for record, reasons in plan.held_back
            ],
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/publish_round_confirmation.html", context)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = VersionedForm
    fields = ["participant", "role", "title", "loaded_version"]
    autocomplete_fields = ["participant"]
    extra = 1


@admin.register(Delegation)
class DelegationAdmin(OneEntryPerSave, ArchiveAdmin):
    list_display = ["__str__", "round", "party", "role", "member_count"]
    list_filter = ["role", "party"]
    list_select_related = ["round", "party"]
    search_fields = ["round__title", "party__name", "notes"]
    autocomplete_fields = ["round", "party"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, delegation):
        return delegation.member_count


@admin.register(Participant)
class ParticipantAdmin(OneEntryPerSave, PublishableAdmin):
    list_display = ["name", "party", "description", "publication_status"]
    list_filter = ["publication_status", "party"]
    list_select_related = ["party"]
    search_fields = ["name", "aliases", "description"]
    autocomplete_fields = ["party"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = RECORD_FIELDS


@admin.register(Membership)
class MembershipAdmin(OneEntryPerSave, ArchiveAdmin):
    list_display = ["participant", "role", "title", "delegation"]
    list_filter = ["role", "delegation__party"]
    list_select_related = ["participant", "delegation__round", "delegation__party"]
    search_fields = [
        "participant__name",
        "participant__aliases",
        "title",
        "delegation__round__title",
        "delegation__party__name",
    ]
    autocomplete_fields = ["delegation", "participant"]


@admin.register(Issue)
class IssueAdmin(OneEntryPerSave, PublishableAdmin):
    list_display = ["name", "parent", "claim_count", "publication_status"]
    list_filter = ["publication_status", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = RECORD_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(claim_count=Count("claims"))

    @admin.display(description="claims", ordering="claim_count")
    def claim_count(self, issue):
        return issue.claim_count


class ClaimForm(ArchiveForm):
    """A claim's issues, chosen by search; saved through the relation so history records them."""

    issues = forms.ModelMultipleChoiceField(
        queryset=Issue.objects.all(),
        required=False,
        widget=AutocompleteSelectMultiple(Claim._meta.get_field("issues"), admin.site),
        help_text="The issues this claim is about.",
    )

    class Meta:
        model = Claim
        # The admin's read-only fields decide what an editor may change; the form takes the rest.
        fields = "__all__"  # noqa: DJ007

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = getattr(self.instance, "_history", None)  # set when restoring from history
        if version is not None:
            # The issues of the version being restored, those still in the archive: a deleted
            # claim's own links went with it.
            linked = version.issues.values_list("issue_id", flat=True)
            self.initial["issues"] = list(Issue.objects.filter(pk__in=linked))
        elif self.instance.pk:
            self.initial["issues"] = list(self.instance.issues.all())


class CitationFormSet(forms.BaseInlineFormSet):
    """A published claim keeps at least one citation of a published article."""

    def clean(self):
        super().clean()
        if not self.instance.is_published:
            return
        was_published = Claim.objects.published().filter(pk=self.instance.pk).exists()
        if not was_published and self.has_changed():
            raise forms.ValidationError(
                "A claim cannot be published in the save that changes its citations: save the "
                "changes, and publish once another editor has checked them."
            )
        backed = any(
            form.cleaned_data.get("article") is not None
            and form.cleaned_data["article"].is_published
            and not form.cleaned_data.get("DELETE")
            for form in self.forms
            if hasattr(form, "cleaned_data")
        )
        if not backed:
            raise forms.ValidationError(
                "A claim cannot be published without at least one citation of a published article: "
                "add one here, or publish the article first."
            )


class DisagreementVersionFormSet(forms.BaseInlineFormSet):
    """A published disagreement keeps at least two published claims, one for each version."""

    def clean(self):
        super().clean()
        if not self.instance.is_published:
            return
        published = [
            form.cleaned_data["claim"]
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and form.cleaned_data.get("claim") is not None
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data["claim"].is_published
        ]
        if len(published) < 2:
            raise forms.ValidationError(
                "A disagreement cannot be published with fewer than two published claims: "
                "link a claim for each version the articles give."
            )


class CitationInline(admin.StackedInline):
    model = Citation
    form = VersionedForm
    formset = CitationFormSet
    fields = ["article", "quote", "stance", "note", "editor_note", "loaded_version"]
    # The autocomplete widget keeps the "+" button, so an editor can add a new article in a
    # pop-up without leaving the claim.
    autocomplete_fields = ["article"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 80})}}
    extra = 1


class SecondReadingFilter(admin.SimpleListFilter):
    title = "second reading"
    parameter_name = "checked"

    def lookups(self, request, model_admin):
        return [("no", "Awaiting a second reader"), ("yes", "Checked against its sources")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(checked_on__isnull=self.value() == "no")
        return queryset


@admin.register(Claim)
class ClaimAdmin(OneEntryPerSave, PublishableAdmin):
    list_display = [
        "__str__",
        "round",
        "party",
        "speaker",
        "kind",
        "sourcing",
        "date",
        "issue_names",
        "citation_count",
        "checked_on",
        "publication_status",
    ]
    list_filter = [
        "publication_status",
        SecondReadingFilter,
        "sourcing",
        "occurrence",
        "kind",
        "round",
        "party",
        "issues",
    ]
    actions = [*PublishableAdmin.actions, "record_second_reading"]
    list_select_related = ["round", "party", "speaker"]
    search_fields = [
        "key",
        "text",
        "speaker__name",
        "speaker__aliases",
        "round__title",
        "citations__quote",
    ]
    autocomplete_fields = ["round", "party", "speaker"]
    readonly_fields = ["key", "checked_on", "checked_by", "content_changed_by", *RECORD_FIELDS]
    form = ClaimForm
    inlines = [CitationInline]

    def save_model(self, request, obj, form, change):
        if not change or set(form.changed_data) & CHECKED_FORM_FIELDS:
            obj.content_changed_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Citation and (
            formset.new_objects or formset.changed_objects or formset.deleted_objects
        ):
            # The citations' own saves cleared the check; this names who changed them.
            changed_by(request.user, [form.instance.pk])

    @admin.action(description="Record that I checked the selected claims against every citation")
    def record_second_reading(self, request, queryset):
        checked, refused = 0, []
        for claim in queryset.prefetch_related("citations"):
            problem = second_reading_problem(claim, request.user)
            if problem:
                refused.append(f"“{claim}”: {problem}")
                continue
            claim.checked_on, claim.checked_by = timezone.localdate(), request.user
            claim._recording_check = True
            claim._change_reason = ""
            claim.save()
            checked += 1
        if checked:
            self.message_user(
                request, f"Recorded your check of {checked} claim{'s' if checked != 1 else ''}."
            )
        for refusal in refused:
            self.message_user(request, f"Not recorded: {refusal}.", messages.ERROR)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(citation_count=Count("citations", distinct=True))
            .prefetch_related("issues")
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Through the relation's manager, so that django-simple-history records the change.
        form.instance.issues.set(form.cleaned_data["issues"])

    @admin.display(description="issues")
    def issue_names(self, claim):
        return "; ".join(issue.name for issue in claim.issues.all())

    @admin.display(description="citations", ordering="citation_count")
    def citation_count(self, claim):
        return claim.citation_count


# The claim form's fields whose change clears a second reader's check (Claim.CHECKED_FIELDS).
CHECKED_FORM_FIELDS = {name.removesuffix("_id") for name in CHECKED_FIELDS}


def second_reading_problem(claim, user) -> str:
    """Why `user` cannot record a check of `claim` now, or "" when they can."""
    if claim.content_changed_by_id is not None and claim.content_changed_by_id == user.pk:
        return "you last changed its text, sourcing or citations; another editor must check it"
    if not claim.citations.all():
        return "it has no citation to check it against"
    return ""


class DisagreementVersionInline(admin.TabularInline):
    model = DisagreementClaim
    formset = DisagreementVersionFormSet
    fields = ["claim", "version"]
    autocomplete_fields = ["claim"]
    extra = 2


@admin.register(Disagreement)
class DisagreementAdmin(OneEntryPerSave, PublishableAdmin):
    list_display = ["question", "round", "version_count", "publication_status"]
    list_filter = ["publication_status", "round"]
    list_select_related = ["round"]
    search_fields = ["question", "description", "slug"]
    autocomplete_fields = ["round"]
    prepopulated_fields = {"slug": ["question"]}
    readonly_fields = RECORD_FIELDS
    inlines = [DisagreementVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, disagreement):
        return disagreement.version_count


def changed_by(user, claim_ids) -> None:
    """Name who last changed these claims' citations: they may not be the one who checks them."""
    Claim.objects.filter(pk__in=claim_ids).update(content_changed_by=user)


@admin.register(Citation)
class CitationAdmin(OneEntryPerSave, ArchiveAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            changed_by(request.user, {obj.claim_id, form.initial.get("claim")} - {None})

    def delete_model(self, request, obj):
        claim_id = obj.claim_id
        super().delete_model(request, obj)
        changed_by(request.user, [claim_id])

    def delete_queryset(self, request, queryset):
        claim_ids = set(queryset.values_list("claim_id", flat=True))
        super().delete_queryset(request, queryset)
        changed_by(request.user, claim_ids)

    list_display = ["claim", "article", "stance", "quote"]
    list_filter = ["stance", "article__outlet"]
    list_select_related = ["claim", "article__outlet"]
    search_fields = ["quote", "claim__text", "article__headline", "note"]
    autocomplete_fields = ["claim", "article"]


class CitingClaimInline(admin.TabularInline):
    """On an article's page: the claims that cite it, each linked. Citations are edited on the claim."""

    model = Citation
    verbose_name = "claim citing this article"
    verbose_name_plural = "claims citing this article"
    fields = ["claim_link", "stance", "quote"]
    readonly_fields = ["claim_link", "stance", "quote"]
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("claim")

    @admin.display(description="claim")
    def claim_link(self, citation):
        return change_link(citation.claim)


# The sources app cannot know about claims, so the talks app adds the citing claims to its page.
admin.site.unregister(SourceArticle)


@admin.register(SourceArticle)
class CitedSourceArticleAdmin(OneEntryPerSave, SourceArticleAdmin):
    inlines = [CitingClaimInline]
    list_display = [*SourceArticleAdmin.list_display, "citation_count"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(citation_count=Count("citations"))

    @admin.display(description="citations", ordering="citation_count")
    def citation_count(self, article):
        return article.citation_count


@admin.register(ClaimIssue)
class ClaimIssueAdmin(admin.ModelAdmin):
    """Links are made on the claim's page, where its history records them; this list is for finding them."""

    list_display = ["claim", "issue"]
    list_filter = ["issue"]
    list_select_related = ["claim", "issue"]
    search_fields = ["claim__text", "issue__name"]
    autocomplete_fields = ["claim", "issue"]


class WrittenByTheArchive:
    """Records the archive writes itself: editors read them, and no one adds, edits or deletes one."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PublicChange)
class PublicChangeAdmin(WrittenByTheArchive, admin.ModelAdmin):
    """The public corrections log, as editors see it: written by the archive itself, never by hand."""

    list_display = ["at", "kind", "record_type", "record_label", "changed_fields", "note"]
    list_filter = ["kind", "record_type"]
    search_fields = ["record_label", "note"]
    date_hierarchy = "at"


class CutReleaseForm(forms.Form):
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=Release._meta.get_field("notes").validators[0].limit_value,
        help_text="Public: shown with the release, e.g. what it was cut for.",
    )

    def clean(self):
        try:
            releases.check_can_cut()
        except releases.ReleaseError as error:
            raise forms.ValidationError(str(error)) from error
        return super().clean()


@admin.register(Release)
class ReleaseAdmin(WrittenByTheArchive, admin.ModelAdmin):
    """Releases are cut, never added by hand, edited or deleted: a cited version must stay as it was."""

    list_display = ["version", "released_at", "size", "sha256", "cut_by", "notes"]
    readonly_fields = ["version", "released_at", "cut_by", "notes", "previous", "file_name", "size", "sha256"]
    exclude = ["record_counts", "changelog"]
    date_hierarchy = "released_at"

    def get_urls(self):
        cut = path("cut/", self.admin_site.admin_view(self.cut_view), name="talks_release_cut")
        return [cut, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_cut": request.user.has_perm("talks.cut_release")}
        return super().changelist_view(request, extra_context)

    def cut_view(self, request):
        if not request.user.has_perm("talks.cut_release"):
            raise PermissionDenied
        form = CutReleaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                release = releases.cut_release(
                    site_url=settings.SITE_URL or request.build_absolute_uri("/"),
                    notes=form.cleaned_data["notes"],
                    cut_by=request.user,
                )
            except releases.ReleaseError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    format_html(
                        'Release {} is cut: <a href="{}">its public page</a>.',
                        release.version,
                        release.get_absolute_url(),
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:talks_release_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Cut a release",
            "opts": self.model._meta,
            "form": form,
            "latest": Release.objects.first(),
            "published_claims": Claim.objects.published().count(),
        }
        return TemplateResponse(request, "admin/talks/release/cut.html", context)

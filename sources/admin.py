from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from sources.editing import RECORD_FIELDS, ArchiveAdmin, ArchiveForm, PublishableAdmin
from sources.models import Outlet, SourceArticle
from sources.urlnorm import normalize_url

# Editors paste addresses without a scheme; assume the secure one (Django 6's default).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Outlet)
class OutletAdmin(ArchiveAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ["name", "homepage", "article_count"]
    search_fields = ["name", "homepage"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, outlet):
        return outlet.article_count


def url_fields_assume_https(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.update(URL_FIELDS_ASSUME_HTTPS[models.URLField])
    return db_field.formfield(**kwargs)


class SourceArticleForm(ArchiveForm):
    class Meta:
        model = SourceArticle
        fields = [
            "headline",
            "outlet",
            "author",
            "language",
            "publication_status",
            "withdrawal_reason",
            "url",
            "archive_url",
            "retrieved_on",
            "published_on",
            "published_on_precision",
            "published_on_note",
            "body",
            "notes",
        ]
        formfield_callback = url_fields_assume_https

    def clean_url(self):
        url = normalize_url(self.cleaned_data["url"])
        if not url:
            return url
        existing = SourceArticle.objects.filter(url=url).exclude(pk=self.instance.pk).first()
        if existing:
            link = reverse("admin:sources_sourcearticle_change", args=[existing.pk])
            raise forms.ValidationError(
                format_html(
                    'This URL is already recorded for <a href="{}">{}</a>. '
                    "Edit that article instead of adding it twice.",
                    link,
                    existing.display_headline,
                ),
                code="duplicate_url",
            )
        return url


@admin.register(SourceArticle)
class SourceArticleAdmin(PublishableAdmin):
    form = SourceArticleForm
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = [
        "display_headline",
        "outlet",
        "published_on",
        "language",
        "publication_status",
    ]
    list_display_links = ["display_headline"]
    list_filter = ["publication_status", "outlet", "language", "published_on_precision"]
    list_select_related = ["outlet"]
    search_fields = ["key", "headline", "url", "author", "outlet__name", "notes"]
    autocomplete_fields = ["outlet"]
    date_hierarchy = "published_on"
    readonly_fields = ["key", *RECORD_FIELDS]
    fieldsets = [
        (None, {"fields": ["headline", "outlet", "author", "language"]}),
        ("Publication", {"fields": ["publication_status", "withdrawal_reason"]}),
        ("Where it is", {"fields": ["url", "archive_url", "retrieved_on"]}),
        (
            "When it was published",
            {"fields": ["published_on", "published_on_precision", "published_on_note"]},
        ),
        ("Text and notes", {"fields": ["body", "notes"]}),
        (
            "Record",
            {
                "fields": ["key", *RECORD_FIELDS],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description="headline", ordering="headline")
    def display_headline(self, article):
        return article.display_headline

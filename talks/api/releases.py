"""Releases and removals in the API: the frozen versions of the archive a citation can name, and the
feed of withdrawals and deletions that lets a copy of the archive stay in step."""

import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from talks.api.base import PublicListViewSet, PublicViewSet, absolute, documented
from talks.api.filtering import MomentFilter
from talks.models import PublicChange, Release


class ReleaseSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    changelog_url = serializers.SerializerMethodField()
    previous = serializers.SlugRelatedField(slug_field="version", read_only=True, allow_null=True)
    changelog = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "version",
            "url",
            "html_url",
            "released_at",
            "notes",
            "previous",
            "file_name",
            "size",
            "sha256",
            "download_url",
            "record_counts",
            "changelog",
            "changelog_url",
        ]

    def linked(self, name: str, *args) -> str:
        return absolute(self.context.get("request"), reverse(name, args=args))

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, release) -> str:
        return self.linked("api:release-detail", release.version)

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_html_url(self, release) -> str:
        return self.linked("release_detail", release.version)

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_download_url(self, release) -> str:
        return self.linked("release_download", release.version, release.file_name)

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_changelog_url(self, release) -> str:
        return self.linked("release_download", release.version, "changelog.json")

    @extend_schema_field(
        {
            "type": "object",
            "description": "By table that changed since the previous release: for each kind of change "
            "(added, changed, withdrawn, removed) the number of records and the first of their keys. "
            "Every key is in changelog_url.",
            "properties": {
                "previous": {"type": "string", "nullable": True},
                "tables": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "count": {"type": "integer"},
                                "keys": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        }
    )
    def get_changelog(self, release) -> dict:
        return release.changelog


class ReleaseFilter(django_filters.FilterSet):
    released_after = MomentFilter(
        field_name="released_at", lookup_expr="gte", help_text="Releases cut at or after this moment."
    )

    class Meta:
        model = Release
        fields = []


@extend_schema_view(
    **documented(ReleaseSerializer, description="Every release, newest first: all are public.")
)
class ReleaseViewSet(PublicViewSet):
    queryset = Release.objects.select_related("previous").order_by("-released_at", "-id")
    filterset_class = ReleaseFilter
    serializer_class = ReleaseSerializer
    lookup_field = "version"
    lookup_value_regex = r"[-a-zA-Z0-9_.]+"

    def rows(self, queryset):
        return queryset


REMOVED = (PublicChange.Kind.WITHDRAWN, PublicChange.Kind.DELETED)


class RemovalSerializer(serializers.ModelSerializer):
    record_key = serializers.CharField(
        help_text="The record's stable key (a slug; a claim's or article's key); empty in entries "
        "logged before keys were recorded."
    )
    record_url = serializers.SerializerMethodField()

    class Meta:
        model = PublicChange
        fields = ["at", "kind", "record_type", "record_key", "record_label", "record_url", "note"]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_record_url(self, change) -> str:
        return absolute(self.context.get("request"), change.record_path)


class RemovalFilter(django_filters.FilterSet):
    since = MomentFilter(
        field_name="at", lookup_expr="gte", help_text="Only removals at or after this moment, ISO 8601."
    )
    record_type = django_filters.CharFilter(help_text="round, claim, article, participant, issue, ...")

    class Meta:
        model = PublicChange
        fields = []


@extend_schema_view(
    list=documented(
        RemovalSerializer,
        description="Withdrawals and deletions of records readers could see, oldest first, from the "
        "public corrections log. Drafts never appear: a record that was never published was never "
        "public, so neither its withdrawal nor its deletion is logged.",
    )["list"]
)
class RemovalViewSet(PublicListViewSet):
    queryset = PublicChange.objects.filter(kind__in=REMOVED).order_by("at", "id")
    filterset_class = RemovalFilter
    serializer_class = RemovalSerializer

    def rows(self, queryset):
        return queryset

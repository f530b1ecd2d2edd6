"""Releases and removals in the API: the frozen versions of the archive a citation can name, and the
feed of withdrawals and deletions that lets a copy of the archive stay in step."""

import django_filters
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from talks.api.base import PublicListViewSet, PublicViewSet, absolute, documented
from talks.api.filtering import MomentFilter
from talks.models import PublicChange, Release


def reversed_or_none(request, name: str, *args) -> str | None:
    try:
        return absolute(request, reverse(name, args=args))
    except NoReverseMatch:  # the releases' pages come with talks/releases.py
        return None


class ReleaseSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    previous = serializers.SlugRelatedField(slug_field="version", read_only=True, allow_null=True)
    changelog_summary = serializers.SerializerMethodField()

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
            "changelog_summary",
        ]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, release) -> str:
        return absolute(self.context.get("request"), reverse("api:release-detail", args=[release.version]))

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_html_url(self, release) -> str | None:
        return reversed_or_none(self.context.get("request"), "release_detail", release.version)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, release) -> str | None:
        return reversed_or_none(
            self.context.get("request"), "release_download", release.version, release.file_name
        )

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
            "description": "By table: how many records were added, changed and removed since the "
            "previous release.",
        }
    )
    def get_changelog_summary(self, release) -> dict:
        return {
            table: {change: len(keys) for change, keys in changes.items()}
            for table, changes in (release.changelog or {}).items()
            if isinstance(changes, dict)
        }


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

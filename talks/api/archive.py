"""Rounds, people, issues, disagreements and articles in the API, each by its stable key (a slug;
an article's `key`), with the filters of its public list."""

from django.db.models import F, Prefetch
from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from config.paths import path_to
from sources.models import SourceArticle
from sources.record_base import last_public_change, list_items
from talks.api.base import Expanded, KeyOfPublic, Linked, PublicViewSet, WithExpansions, absolute, documented
from talks.api.claims import PartySerializer, RoundBriefSerializer
from talks.models import Delegation, Disagreement, DisagreementClaim, Issue, Membership, Participant, Round


class Dated(serializers.Serializer):
    last_public_change = serializers.DateTimeField(source="last_change", read_only=True)


def claims_link(serializer, param: str, value: str) -> str:
    return absolute(serializer.context.get("request"), f"{path_to('api:claim-list')}?{param}={value}")


# --- Rounds -----------------------------------------------------------------------------------


class SeatSerializer(serializers.ModelSerializer):
    person = serializers.SlugRelatedField(source="participant", slug_field="slug", read_only=True)
    name = serializers.CharField(source="participant.name")

    class Meta:
        model = Membership
        fields = ["person", "name", "role", "title"]


class DelegationSerializer(serializers.ModelSerializer):
    party = PartySerializer()
    seats = SeatSerializer(source="public_seats", many=True)

    class Meta:
        model = Delegation
        fields = ["party", "role", "notes", "seats"]


class RoundExpansions(Expanded):
    delegations = DelegationSerializer(source="public_delegations", many=True, required=False)


class RoundSerializer(Linked, Dated, WithExpansions, serializers.ModelSerializer):
    api_url_name = "api:round-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    track = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    track_name = serializers.CharField(source="track.name")
    claims_url = serializers.SerializerMethodField()
    expanded = RoundExpansions(source="*", required=False)

    class Meta:
        model = Round
        fields = [
            "slug",
            "url",
            "html_url",
            "title",
            "track",
            "track_name",
            "sequence",
            "start_date",
            "end_date",
            "date_precision",
            "dates_note",
            "city",
            "country",
            "venue",
            "format",
            "status",
            "summary",
            "outcome",
            "claims_url",
            "first_published_at",
            "last_public_change",
            "expanded",
        ]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_claims_url(self, round_) -> str:
        return claims_link(self, "round", round_.slug)


def public_delegations(queryset):
    seats = Membership.objects.published().select_related("participant").order_by("participant__name", "id")
    delegations = (
        Delegation.objects.select_related("party")
        .prefetch_related(Prefetch("memberships", queryset=seats, to_attr="public_seats"))
        .order_by("party__name", "id")
    )
    return queryset.prefetch_related(
        Prefetch("delegations", queryset=delegations, to_attr="public_delegations")
    )


@extend_schema_view(
    **documented(RoundSerializer, ("delegations",), "Published rounds, as /rounds/ filters them.")
)
class RoundViewSet(PublicViewSet):
    list_name = "rounds"
    serializer_class = RoundSerializer
    expansions = {"delegations": public_delegations}

    def rows(self, queryset):
        return super().rows(queryset.select_related("track").annotate(last_change=last_public_change()))


# --- People -----------------------------------------------------------------------------------


class PersonSeatSerializer(serializers.ModelSerializer):
    round = serializers.SlugRelatedField(source="delegation.round", slug_field="slug", read_only=True)
    round_title = serializers.CharField(source="delegation.round.title")
    party = serializers.SlugRelatedField(source="delegation.party", slug_field="slug", read_only=True)

    class Meta:
        model = Membership
        fields = ["round", "round_title", "party", "role", "title"]


class PersonExpansions(Expanded):
    seats = PersonSeatSerializer(source="public_seats", many=True, required=False)


def public_seats_of_people(queryset):
    """Each person's seats at published rounds, earliest round first."""
    seats = (
        Membership.objects.published()
        .select_related("delegation__round", "delegation__party")
        .order_by(F("delegation__round__start_date").asc(nulls_last=True), "id")
    )
    return queryset.prefetch_related(Prefetch("memberships", queryset=seats, to_attr="public_seats"))


class PersonSerializer(Linked, Dated, WithExpansions, serializers.ModelSerializer):
    api_url_name = "api:person-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField()
    party = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    party_name = serializers.CharField(source="party.name", allow_null=True, default=None)
    seat_roles = serializers.SerializerMethodField()
    claims_url = serializers.SerializerMethodField()
    expanded = PersonExpansions(source="*", required=False)

    class Meta:
        model = Participant
        fields = [
            "slug",
            "url",
            "html_url",
            "name",
            "aliases",
            "description",
            "party",
            "party_name",
            "seat_roles",
            "claims_url",
            "first_published_at",
            "last_public_change",
            "expanded",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_aliases(self, person) -> list[str]:
        return list_items(person.aliases)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=Membership.Role.choices))
    )
    def get_seat_roles(self, person) -> list[str]:
        return person.seat_roles.split()

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_claims_url(self, person) -> str:
        return claims_link(self, "speaker", person.slug)


@extend_schema_view(
    **documented(PersonSerializer, ("seats",), "Published people, as /participants/ filters them.")
)
class PersonViewSet(PublicViewSet):
    list_name = "participants"
    serializer_class = PersonSerializer
    expansions = {"seats": public_seats_of_people}

    def rows(self, queryset):
        return super().rows(queryset.select_related("party").annotate(last_change=last_public_change()))


# --- Issues -----------------------------------------------------------------------------------


class SubIssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["slug", "name"]


class IssueExpansions(Expanded):
    sub_issues = SubIssueSerializer(source="public_sub_issues", many=True, required=False)


def public_sub_issues(queryset):
    """Each issue's published sub-issues, by name."""
    children = Issue.objects.published().order_by("name", "pk")
    return queryset.prefetch_related(Prefetch("children", queryset=children, to_attr="public_sub_issues"))


class IssueSerializer(Linked, Dated, WithExpansions, serializers.ModelSerializer):
    api_url_name = "api:issue-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    parent = KeyOfPublic()
    claims_url = serializers.SerializerMethodField()
    expanded = IssueExpansions(source="*", required=False)

    class Meta:
        model = Issue
        fields = [
            "slug",
            "url",
            "html_url",
            "name",
            "description",
            "parent",
            "claims_url",
            "first_published_at",
            "last_public_change",
            "expanded",
        ]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_claims_url(self, issue) -> str:
        return claims_link(self, "issue", issue.slug)


@extend_schema_view(**documented(IssueSerializer, ("sub_issues",), "Published issues, in name order."))
class IssueViewSet(PublicViewSet):
    list_name = "issues"
    serializer_class = IssueSerializer
    expansions = {"sub_issues": public_sub_issues}

    def get_queryset(self):
        return super().get_queryset().order_by("name", "pk")

    def rows(self, queryset):
        return super().rows(queryset.select_related("parent").annotate(last_change=last_public_change()))


# --- Disagreements ----------------------------------------------------------------------------


class VersionSerializer(serializers.ModelSerializer):
    claim = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = DisagreementClaim
        fields = ["claim", "version"]


class DisagreementExpansions(Expanded):
    round = RoundBriefSerializer(allow_null=True, required=False)


class DisagreementSerializer(Linked, Dated, WithExpansions, serializers.ModelSerializer):
    api_url_name = "api:disagreement-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    round = KeyOfPublic()
    versions = VersionSerializer(source="public_versions", many=True)
    expanded = DisagreementExpansions(source="*", required=False)

    class Meta:
        model = Disagreement
        fields = [
            "slug",
            "url",
            "html_url",
            "question",
            "description",
            "round",
            "versions",
            "first_published_at",
            "last_public_change",
            "expanded",
        ]


def public_versions(queryset):
    versions = DisagreementClaim.objects.published().select_related("claim").order_by("id")
    return queryset.prefetch_related(Prefetch("versions", queryset=versions, to_attr="public_versions"))


@extend_schema_view(
    **documented(
        DisagreementSerializer, ("round",), "Published disagreements, as /disagreements/ filters them."
    )
)
class DisagreementViewSet(PublicViewSet):
    list_name = "disagreements"
    serializer_class = DisagreementSerializer
    expansions = {"round": lambda queryset: queryset}  # read with the disagreement (select_related)

    def get_queryset(self):
        return super().get_queryset().order_by("question", "pk")

    def rows(self, queryset):
        queryset = queryset.select_related("round__track").annotate(last_change=last_public_change())
        return super().rows(public_versions(queryset))


# --- Articles ---------------------------------------------------------------------------------


class OutletSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    homepage = serializers.URLField(allow_blank=True)


class ArticleSerializer(Linked, Dated, serializers.ModelSerializer):
    api_url_name = "api:article-detail"
    key_field = "key"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    article_url = serializers.CharField(source="url", help_text="The original address; empty if not known.")
    outlet = OutletSerializer(allow_null=True)
    citations_url = serializers.SerializerMethodField()

    class Meta:
        model = SourceArticle
        fields = [
            "key",
            "url",
            "html_url",
            "headline",
            "article_url",
            "archive_url",
            "outlet",
            "author",
            "language",
            "published_on",
            "published_on_precision",
            "published_on_note",
            "retrieved_on",
            "citations_url",
            "first_published_at",
            "last_public_change",
        ]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_citations_url(self, article) -> str:
        return absolute(self.context.get("request"), f"{path_to('api:citation-list')}?article={article.key}")


@extend_schema_view(
    **documented(ArticleSerializer, description="Published articles, as /sources/ filters them.")
)
class ArticleViewSet(PublicViewSet):
    list_name = "sources"
    serializer_class = ArticleSerializer
    lookup_field = "key"

    def get_queryset(self):
        # The list's default order, as /sources/ shows it (SourceListView).
        return (
            super()
            .get_queryset()
            .defer("body")
            .order_by(F("published_on").desc(nulls_last=True), "headline", "pk")
        )

    def rows(self, queryset):
        return queryset.select_related("outlet").defer("body").annotate(last_change=last_public_change())

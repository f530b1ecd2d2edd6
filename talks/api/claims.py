"""Claims and their citations in the API: a claim names its round, party, speaker and issues by
their stable keys, and expands them, its citations and its disagreements on request."""

import django_filters
from django.db.models import Prefetch, Q
from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from sources.models import SourceArticle
from sources.record_base import last_public_change
from talks.api.base import (
    Expanded,
    KeyOfPublic,
    Linked,
    PublicListViewSet,
    PublicOnly,
    PublicViewSet,
    WithExpansions,
    absolute,
    documented,
)
from talks.api.filtering import UPDATED_SINCE_HELP, MomentFilter
from talks.models import Citation, Claim, DisagreementClaim, Issue, Participant, Party, Round


class PartySerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["slug", "name", "kind"]


class RoundBriefSerializer(Linked, PublicOnly, serializers.ModelSerializer):
    api_url_name = "api:round-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    track = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Round
        fields = ["slug", "url", "html_url", "title", "track", "start_date", "end_date", "city", "country"]


class PersonBriefSerializer(Linked, PublicOnly, serializers.ModelSerializer):
    api_url_name = "api:person-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    party = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Participant
        fields = ["slug", "url", "html_url", "name", "description", "party"]


class IssueBriefSerializer(Linked, serializers.ModelSerializer):
    api_url_name = "api:issue-detail"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    parent = KeyOfPublic()

    class Meta:
        model = Issue
        fields = ["slug", "url", "html_url", "name", "parent"]


class ArticleBriefSerializer(Linked, serializers.ModelSerializer):
    api_url_name = "api:article-detail"
    key_field = "key"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    outlet = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    headline = serializers.CharField(source="display_headline")

    class Meta:
        model = SourceArticle
        fields = ["key", "url", "html_url", "headline", "outlet", "published_on", "published_on_precision"]


class CitationInClaimSerializer(serializers.ModelSerializer):
    article = ArticleBriefSerializer()

    class Meta:
        model = Citation
        fields = ["article", "quote", "stance", "note"]


class DisagreementVersionSerializer(serializers.ModelSerializer):
    disagreement = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    question = serializers.CharField(source="disagreement.question")

    class Meta:
        model = DisagreementClaim
        fields = ["disagreement", "question", "version"]


class ClaimExpansions(Expanded):
    round = RoundBriefSerializer(allow_null=True, required=False)
    speaker = PersonBriefSerializer(allow_null=True, required=False)
    party = PartySerializer(allow_null=True, required=False)
    issues = IssueBriefSerializer(source="public_issues", many=True, required=False)
    citations = CitationInClaimSerializer(source="public_citations", many=True, required=False)
    disagreements = DisagreementVersionSerializer(source="public_disagreements", many=True, required=False)


class ClaimSerializer(Linked, WithExpansions, serializers.ModelSerializer):
    api_url_name = "api:claim-detail"
    key_field = "key"
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    round = KeyOfPublic()
    party = KeyOfPublic()
    speaker = KeyOfPublic()
    issues = serializers.SerializerMethodField()
    citations_url = serializers.SerializerMethodField()
    last_public_change = serializers.DateTimeField(source="last_change", read_only=True)
    expanded = ClaimExpansions(source="*", required=False)

    class Meta:
        model = Claim
        fields = [
            "key",
            "url",
            "html_url",
            "text",
            "kind",
            "sourcing",
            "attribution",
            "occurrence",
            "date",
            "date_precision",
            "listed_on",
            "round",
            "party",
            "speaker",
            "issues",
            "outlet_count",
            "disputed",
            "checked_on",
            "citations_url",
            "first_published_at",
            "last_public_change",
            "expanded",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_issues(self, claim) -> list[str]:
        return [issue.slug for issue in claim.public_issues]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_citations_url(self, claim) -> str:
        from config.paths import path_to

        return absolute(self.context.get("request"), f"{path_to('api:citation-list')}?claim={claim.key}")


def public_issues(queryset):
    issues = Issue.objects.published().select_related("parent").order_by("name")
    return queryset.prefetch_related(Prefetch("issues", queryset=issues, to_attr="public_issues"))


def public_citations(queryset):
    citations = Citation.objects.published().select_related("article__outlet").order_by("id")
    return queryset.prefetch_related(Prefetch("citations", queryset=citations, to_attr="public_citations"))


def public_disagreements(queryset):
    versions = (
        DisagreementClaim.objects.published()
        .select_related("disagreement")
        .order_by("disagreement__question", "disagreement_id")
    )
    return queryset.prefetch_related(
        Prefetch("disagreement_links", queryset=versions, to_attr="public_disagreements")
    )


def as_is(queryset):
    return queryset  # read with the claim itself (select_related)


@extend_schema_view(
    **documented(
        ClaimSerializer,
        ("round", "speaker", "party", "issues", "citations", "disagreements"),
        description="Published claims, with the filters and orders of /claims/.",
    )
)
class ClaimViewSet(PublicViewSet):
    list_name = "claims"
    serializer_class = ClaimSerializer
    lookup_field = "key"
    expansions = {
        "round": as_is,
        "speaker": as_is,
        "party": as_is,
        "issues": as_is,
        "citations": public_citations,
        "disagreements": public_disagreements,
    }

    def rows(self, queryset):
        queryset = public_issues(
            queryset.select_related("round__track", "party", "speaker__party").annotate(
                last_change=last_public_change()
            )
        )
        return super().rows(queryset)


def citation_changed_since(queryset, name, since):
    """Citations readers saw change at or after `since`: a citation's change is its claim's public
    change (talks/changes.py logs it there), and one becomes public when its article is published."""
    if since is None:
        return queryset
    return queryset.alias(
        claim_change=last_public_change("claim__"), article_change=last_public_change("article__")
    ).filter(Q(claim_change__gte=since) | Q(article_change__gte=since))


class CitationFilter(django_filters.FilterSet):
    """Citations of one claim or of one article (by stable key), or changed since a moment, and of
    one stance. One of the first three is required: counting all 600,000 citations of the demo
    archive joined to their claims and articles took 3.5 s; every citation is in /citations.csv."""

    claim = django_filters.CharFilter(
        field_name="claim__key", help_text="The claim's stable key (or give article or updated_since)."
    )
    article = django_filters.CharFilter(field_name="article__key", help_text="The article's stable key.")
    stance = django_filters.ChoiceFilter(choices=Citation.Stance.choices)
    updated_since = MomentFilter(method=citation_changed_since, help_text=UPDATED_SINCE_HELP)

    class Meta:
        model = Citation
        fields = []

    def is_valid(self):
        valid = super().is_valid()
        if valid and not any(self.form.cleaned_data.get(name) for name in NARROWING_CITATIONS):
            self.form.add_error(
                "claim",
                "Give claim, article or updated_since: the whole list of citations is /citations.csv.",
            )
            return False
        return valid


NARROWING_CITATIONS = ("claim", "article", "updated_since")


class CitationSerializer(serializers.ModelSerializer):
    claim = serializers.SlugRelatedField(slug_field="key", read_only=True)
    claim_url = serializers.SerializerMethodField()
    article = ArticleBriefSerializer()

    class Meta:
        model = Citation
        fields = ["claim", "claim_url", "article", "quote", "stance", "note"]

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_claim_url(self, citation) -> str:
        from config.paths import path_to

        return absolute(self.context.get("request"), path_to("api:claim-detail", citation.claim.key))


@extend_schema_view(
    list=documented(CitationSerializer, description="Citations of published claims by published articles.")[
        "list"
    ]
)
class CitationViewSet(PublicListViewSet):
    """Citations have no key of their own (a claim, an article and a quote make one): a list only."""

    queryset = Citation.objects.published().order_by("id")
    filterset_class = CitationFilter
    serializer_class = CitationSerializer

    def rows(self, queryset):
        return queryset.select_related("claim", "article__outlet")

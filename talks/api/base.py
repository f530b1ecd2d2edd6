"""What every API list shares: a public list's records, its filters, pages and expansions, and the
fields that link records by their stable keys."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import get_object_or_404

from config.paths import path_to
from sources.record_base import is_public
from talks.api.errors import ERROR_RESPONSES, ParameterError
from talks.api.filtering import LIST_PARAMETERS, ListFilterBackend, with_updated_since
from talks.api.pagination import ListPagination
from talks.list_specs import LISTS


def absolute(request, path: str | None) -> str | None:
    return request.build_absolute_uri(path) if path and request is not None else path


class Linked(serializers.Serializer):
    """A record's own links: `url` in the API (by its stable key), `html_url` its public page."""

    api_url_name = ""  # "api:claim-detail"
    key_field = "slug"

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, record) -> str:
        return absolute(
            self.context.get("request"), path_to(self.api_url_name, getattr(record, self.key_field))
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, record) -> str:
        return absolute(self.context.get("request"), record.get_absolute_url())


@extend_schema_field({"type": "string", "nullable": True})
class KeyOfPublic(serializers.Field):
    """A related record's stable key, or null when there is none or readers may not see it (a
    published claim's draft speaker stays unnamed)."""

    def __init__(self, key: str = "slug", **kwargs):
        self.key = key
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        try:
            return super().get_attribute(instance)
        except (AttributeError, ObjectDoesNotExist):
            return None

    def to_representation(self, value):
        return getattr(value, self.key) if is_public(value) else None


class PublicOnly(serializers.Serializer):
    """A nested record that is null unless readers may see it."""

    def to_representation(self, instance):
        return super().to_representation(instance) if is_public(instance) else None


class Expanded(serializers.Serializer):
    """The related records a reader asked for with `?expand=`: only those are computed and shown."""

    def get_fields(self):
        fields = super().get_fields()
        asked = self.context.get("expand")
        if asked is None:  # the schema: every expansion
            return fields
        return {name: field for name, field in fields.items() if name in asked}


class WithExpansions(serializers.Serializer):
    """A record whose `expanded` object appears only when `?expand=` asks for something."""

    def get_fields(self):
        fields = super().get_fields()
        if "expanded" in fields and self.context.get("expand") == set():
            del fields["expanded"]
        return fields


def expand_parameter(expansions) -> OpenApiParameter:
    names = ", ".join(expansions)
    return OpenApiParameter(
        "expand",
        str,
        description=f"Related records to include in full, separated by commas: {names}. "
        "Without it, related records are given by their stable keys and links.",
        pattern=rf"^({'|'.join(expansions)})(,({'|'.join(expansions)}))*$",
    )


class PublicListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Published records only, through the model's `published()` queryset, as the public pages.

    `list_name` names the list in LISTS whose FilterSet (with `updated_since`) and index the API
    reuses; a record kind with no public list sets `filterset_class` instead. `expansions` maps each
    `?expand=` value to the prefetching it needs, so a page runs the same number of queries whatever
    its length."""

    list_name: str | None = None
    expansions: dict = {}
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends = [ListFilterBackend]
    pagination_class = ListPagination
    filterset = None

    @property
    def spec(self):
        return LISTS[self.list_name]

    @property
    def list_index(self):
        return self.spec.index if self.list_name else None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.list_name and "filterset_class" not in cls.__dict__:
            cls.filterset_class = with_updated_since(LISTS[cls.list_name].filterset)

    @property
    def list_parameters(self) -> tuple[str, ...]:
        return LIST_PARAMETERS if self.expansions else ("page", "page_size")

    @property
    def detail_parameters(self) -> tuple[str, ...]:
        return ("expand",) if self.expansions else ()

    def get_queryset(self):
        return self.spec.base_queryset() if self.list_name else self.queryset.all()

    def rows(self, queryset):
        """What a page's records are read with: the related records each shows and those asked for."""
        for name in self.asked_expansions():
            queryset = self.expansions[name](queryset)
        return queryset

    def asked_expansions(self) -> list[str]:
        if getattr(self, "_expand", None) is None:
            raw = self.request.query_params.get("expand", "") if self.expansions else ""
            asked = [name.strip() for name in raw.split(",") if name.strip()]
            for name in asked:
                if name not in self.expansions:
                    known = ", ".join(self.expansions)
                    raise ParameterError("expand", f"Unknown expansion {name!r}. This list expands: {known}.")
            self._expand = list(dict.fromkeys(asked))
        return self._expand

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):  # the schema documents every expansion
            context["expand"] = set(self.asked_expansions())
        return context

    def get_object(self):
        queryset = self.rows(self.filter_queryset(self.get_queryset()))
        return get_object_or_404(queryset, **{self.lookup_field: self.kwargs[self.lookup_field]})


class PublicViewSet(mixins.RetrieveModelMixin, PublicListViewSet):
    """A list whose records each have an address, by stable key."""


def documented(serializer, expansions=(), description: str = "") -> dict:
    """The list and detail operations' documentation for `extend_schema_view`: the records, the
    errors (as JSON), and `expand` where there is one."""
    parameters = [expand_parameter(list(expansions))] if expansions else []
    return {
        "list": extend_schema(
            parameters=parameters,
            responses={200: serializer(many=True), **ERROR_RESPONSES},
            description=description,
        ),
        "retrieve": extend_schema(parameters=parameters, responses={200: serializer, **ERROR_RESPONSES}),
    }

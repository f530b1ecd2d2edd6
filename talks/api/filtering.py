"""The API's filters: each list's own FilterSet (talks/list_specs.py), the same parameters as its
page and downloads, with `updated_since` added; checked as the downloads check them (talks/exports.py):
an unknown or invalid parameter is refused, never silently dropped."""

import copy
import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from sources.record_base import last_public_change
from talks.api.errors import ParameterError
from talks.filters import parameters_of, unknown_parameters

# What every list reads beside its filters (the paginator's and the expansions').
LIST_PARAMETERS = ("page", "page_size", "expand")


def changed_since(queryset, name, since, exclude: bool = False):
    """Records readers saw change at or after `since`: their last public update, or else their first
    publication (`last_public_change`), and any with neither recorded (written around the ORM), which
    a copy cannot know it holds. With `exclude`, the others: those that changed only before `since`,
    an index range on both databases (an IS NULL on the expression is not, on SQLite)."""
    if since is None:
        return queryset
    dated = queryset.alias(last_change=last_public_change())
    if exclude:
        return dated.filter(last_change__lt=since)
    return dated.filter(Q(last_change__gte=since) | Q(last_change__isnull=True))


class MomentField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, given to the database in UTC: PostgreSQL refuses offsets beyond ±15:59,
    which Python accepts (+17:25), and one moved out of the years Python holds is no moment at all."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC) if moment.tzinfo else moment
        except OverflowError:
            raise ValidationError("Give a moment between the years 1 and 9999.", code="invalid") from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


UPDATED_SINCE_HELP = (
    "Only records whose last public change (or first publication) is at or after this moment, "
    "ISO 8601 (2026-02-17T09:00:00Z), and those with no recorded change; without `ordering`, the "
    "most recently changed first."
)


def with_updated_since(filterset_class, changed=changed_since) -> type[django_filters.FilterSet]:
    """The list's FilterSet and `updated_since`; nothing of the list's own is declared again. A
    filter that takes a record's slug, or a choice among values read from the database, and lies
    on no column of the model's own name is said to take text, which drf-spectacular cannot tell
    (it warns): a copy of it says so, leaving the list's own untouched."""
    attrs = {"updated_since": MomentFilter(method=changed, help_text=UPDATED_SINCE_HELP)}
    columns = {field.name for field in filterset_class._meta.model._meta.get_fields()}
    for name, list_filter in filterset_class.base_filters.items():
        chosen_from_database = isinstance(list_filter, django_filters.ModelChoiceFilter) or callable(
            list_filter.extra.get("choices")
        )
        if chosen_from_database and name not in columns:
            attrs[name] = extend_schema_field(OpenApiTypes.STR)(copy.deepcopy(list_filter))
    return type(f"Api{filterset_class.__name__}", (filterset_class,), attrs)


def first_error(filterset) -> tuple[str, str]:
    name, errors = next(iter(filterset.form.errors.items()))
    return name, str(errors[0])


class ListFilterBackend(DjangoFilterBackend):
    """The view's FilterSet (`filterset_class`) over its records, refusing unknown and invalid
    parameters with a 400 that names them. The valid FilterSet is kept on the view, for the
    paginator to count its matches with the list index."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", "list") != "list":
            refuse_unknown(request.query_params, known=set(view.detail_parameters))
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        unknown = unknown_parameters(filterset, request.query_params, also=view.list_parameters)
        if unknown:
            raise ParameterError(unknown[0], unknown_message(unknown[0], filterset, view.list_parameters))
        if not filterset.is_valid():
            raise ParameterError(*first_error(filterset))
        view.filterset = filterset
        return filterset.qs


def unknown_message(name: str, filterset, also) -> str:
    known = ", ".join(sorted(parameters_of(filterset) | set(also)))
    return f"Unknown parameter {name!r}. This list takes: {known}."


def refuse_unknown(query, known: set) -> None:
    for name in query:
        if name not in known:
            taken = ", ".join(sorted(known)) or "no parameters"
            raise ParameterError(name, f"Unknown parameter {name!r}. This address takes: {taken}.")

"""What every archive record shares: timestamps, a publication status, dated facts with a precision.

These live in `sources`, the lower layer, so that `talks` can build on them without `sources` ever
importing from `talks`.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import OrderBy
from django.db.models.functions import Coalesce
from django.utils import timezone

KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: keys get read aloud and retyped
# The longest note, description, summary or reason a record keeps: some pages of prose. Every text
# field has a limit, so that the admin and the import refuse a runaway paste with a message.
MAX_NOTE = 10_000


def new_key() -> str:
    """A short random identifier for records without a natural name (articles, claims)."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(10))


def list_items(text: str | None) -> list[str]:
    """The items of a field stored one per line (aliases), blank lines and edge spaces dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class NewestFirstIndex(models.Index):
    """An index for a list's default order, `<date> DESC NULLS LAST` then its tie-breakers.

    PostgreSQL reads such an order from an index only if the index spells out NULLS LAST; otherwise
    a list's first page sorts every record of the list. SQLite cannot spell it and need not: its
    descending order already puts NULLs last. Name the date field with a leading "-".
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using, **kwargs)
        return schema_editor._create_index_sql(
            model,
            fields=[model._meta.get_field(name) for name, _ in self.fields_orders],
            name=self.name,
            using=using,
            col_suffixes=[f"{order} NULLS LAST" if order else "" for _, order in self.fields_orders],
            **kwargs,
        )


class NullsLastIndex(models.Index):
    """An index of expressions in which `desc(nulls_last=True)` terms, which PostgreSQL needs spelled
    out to read such an order from the index, are plain DESC on SQLite: it refuses the words in an
    index, and its descending order already puts NULLs last."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using, **kwargs)
        plain = [
            OrderBy(term.expression, descending=term.descending) if isinstance(term, OrderBy) else term
            for term in self.expressions
        ]
        return models.Index(*plain, name=self.name).create_sql(model, schema_editor, using, **kwargs)


def stable_key_field():
    return models.SlugField(
        "stable key",
        max_length=64,
        unique=True,
        default=new_key,
        help_text="The identifier researchers and imports use for this record. "
        "Never change it once published.",
    )


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PublishableQuerySet(models.QuerySet):
    def published(self):
        """The records readers may see. Every public page, count and export goes through this."""
        return self.filter(publication_status=PublicationStatus.PUBLISHED)

    def published_or_withdrawn(self):
        """Records that have a public address: a withdrawn one answers it with a notice (410)."""
        return self.filter(publication_status__in=[PublicationStatus.PUBLISHED, PublicationStatus.WITHDRAWN])


class Publishable(Timestamped):
    """A record readers see only once a chief editor publishes it; new records start as drafts.

    Records move draft → published → withdrawn. A withdrawn record leaves every list, export and
    feed, but its address still answers, with a notice of when and why it was withdrawn.
    """

    publication_status = models.CharField(
        max_length=16,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        help_text="Drafts are visible to editors only. Only chief editors publish and withdraw.",
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    public_updated_at = models.DateTimeField(
        "last public update",
        null=True,
        blank=True,
        editable=False,
        help_text="When readers last saw a change.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Public: shown at the record's address once it is withdrawn.",
    )

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True
        # "publish" lets chief editors publish and withdraw; editors get the others but not delete.
        default_permissions = ("add", "change", "delete", "view", "publish")

    def save(self, *args, **kwargs):
        now = timezone.now()
        if self.publication_status == PublicationStatus.PUBLISHED:
            self.first_published_at = self.first_published_at or now
            self.withdrawn_at = None
        elif self.publication_status == PublicationStatus.WITHDRAWN:
            self.withdrawn_at = self.withdrawn_at or now
        super().save(*args, **kwargs)

    def publication_problems(self) -> list[str]:
        """What stops this record from being published; empty when nothing does."""
        return []

    @property
    def is_published(self) -> bool:
        return self.publication_status == PublicationStatus.PUBLISHED


class LinkQuerySet(models.QuerySet):
    """For records without a publication status that join records with one (a citation joins a claim
    and an article): each model names what it joins in `public_with`."""

    def published(self):
        return self.filter(public_condition(self.model))


def public_condition(model, prefix: str = "") -> models.Q:
    """The rule of `is_public` as a filter on `model`'s rows."""
    if issubclass(model, Publishable):
        return models.Q(**{f"{prefix}publication_status": PublicationStatus.PUBLISHED})
    condition = models.Q()
    for name in getattr(model, "public_with", ()):
        condition &= public_condition(model._meta.get_field(name).related_model, f"{prefix}{name}__")
    return condition


def readers_see(model) -> models.QuerySet:
    """The records of a table that readers see: the published ones where the table has a
    publication status; all of them where it has not (a party, an outlet), since they are public
    through the published records that name them."""
    return model._base_manager.filter(public_condition(model))


def is_public(record) -> bool:
    """Whether readers see `record`: a record with a publication status when it is published; a link
    between records (a citation, a seat) when every record it joins is public; a record with neither
    (a party, a track) always. The corrections log asks it of a link as it was and as it is, so a
    link to a draft changes nothing readers see."""
    if record is None:
        return False
    if isinstance(record, Publishable):
        return record.is_published
    return all(is_public(getattr(record, name, None)) for name in getattr(record, "public_with", ()))


def last_public_change(prefix: str = "") -> Coalesce:
    """When readers last saw a record change: its last public update, or else its first publication;
    of the record at `prefix` (`claim__`) when given."""
    return Coalesce(f"{prefix}public_updated_at", f"{prefix}first_published_at")


class DatePrecision(models.TextChoices):
    """How much of a stored date the sources actually establish."""

    DAY = "day", "Exact day"
    MONTH = "month", "Month only"
    APPROXIMATE = "approximate", "Approximate"


def date_has_precision(date: str, precision: str, name: str, message: str) -> models.CheckConstraint:
    """A date stored with how precise the sources make it, and a precision only with a date."""
    return models.CheckConstraint(
        condition=(
            models.Q(**{f"{date}__isnull": True, precision: ""})
            | (models.Q(**{f"{date}__isnull": False}) & ~models.Q(**{precision: ""}))
        ),
        name=name,
        violation_error_message=message,
    )


def check_date_precision(date, precision: str, precision_field: str) -> None:
    """The form's side of `date_has_precision`, with a message beside the precision field."""
    if date and not precision:
        raise ValidationError({precision_field: "Say how precise the date is."})
    if not date and precision:
        raise ValidationError({precision_field: "Leave the precision empty when the date is unknown."})


def describe_date(date, precision: str) -> str:
    """A date as precisely as it is known: "17 February 2026", "January 2026", "about 16 February 2026"."""
    if date is None:
        return "unknown"
    if precision == DatePrecision.MONTH:
        return f"{date:%B %Y}"
    label = f"{date.day} {date:%B %Y}"
    return f"about {label}" if precision == DatePrecision.APPROXIMATE else label

"""What every archive record shares: timestamps, a publication status, dated facts with a precision.

These live in `sources`, the lower layer, so that `talks` can build on them without `sources` ever
importing from `talks`.
"""

import secrets

from django.db import models

KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: keys get read aloud and retyped


def new_key() -> str:
    """A short random identifier for records without a natural name (articles, claims)."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(10))


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


class PublishableQuerySet(models.QuerySet):
    def published(self):
        """The records readers may see. Every public page, count and export goes through this."""
        return self.filter(publication_status=PublicationStatus.PUBLISHED)


class Publishable(Timestamped):
    """A record readers see only once an editor publishes it; new records start as drafts."""

    publication_status = models.CharField(
        max_length=16,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        help_text="Drafts are visible to editors only.",
    )

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_published(self) -> bool:
        return self.publication_status == PublicationStatus.PUBLISHED


class DatePrecision(models.TextChoices):
    """How much of a stored date the sources actually establish."""

    DAY = "day", "Exact day"
    MONTH = "month", "Month only"
    APPROXIMATE = "approximate", "Approximate"


def describe_date(date, precision: str) -> str:
    """A date as precisely as it is known: "17 February 2026", "January 2026", "about 16 February 2026"."""
    if date is None:
        return "unknown"
    if precision == DatePrecision.MONTH:
        return f"{date:%B %Y}"
    label = f"{date.day} {date:%B %Y}"
    return f"about {label}" if precision == DatePrecision.APPROXIMATE else label

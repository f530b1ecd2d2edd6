"""The articles the archive cites, and the outlets that published them.

This is the lower layer of the archive: it must not import from `talks`.
"""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from config.paths import path_to
from sources.record_base import (
    MAX_NOTE,
    DatePrecision,
    NewestFirstIndex,
    Publishable,
    Timestamped,
    check_date_precision,
    date_has_precision,
    describe_date,
    stable_key_field,
)
from sources.urlnorm import normalize_url

# An article's text is kept whole for checking quotes: a long report is some 100,000 characters.
MAX_ARTICLE_BODY = 1_000_000


class Outlet(Timestamped):
    name = models.CharField(max_length=200, unique=True, help_text="As the outlet names itself.")
    slug = models.SlugField(max_length=200, unique=True)
    homepage = models.URLField(blank=True, help_text="Leave empty if not known.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SourceArticle(Publishable):
    key = stable_key_field()
    headline = models.CharField(
        max_length=500,
        blank=True,
        help_text="Exactly as the article prints it. Leave empty if the copy in hand has none; "
        "never make one up.",
    )
    url = models.URLField(
        "URL",
        max_length=1000,
        blank=True,
        help_text="The original address. Stored without tracking parameters or fragment; "
        "leave empty if not known.",
    )
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        help_text="Only when the copy names it. An unknown outlet stays empty.",
    )
    author = models.CharField(max_length=300, blank=True, help_text="As bylined; empty if none.")
    language = models.CharField(
        max_length=16,
        default="en",
        help_text="Language of the copy the quotes are taken from, as a code such as en, fr, ru, uk.",
    )
    published_on = models.DateField(
        "publication date",
        null=True,
        blank=True,
        help_text="Only when the text states it or lets one infer it; say how in the note.",
    )
    published_on_precision = models.CharField(
        "publication date precision",
        max_length=16,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Required with a publication date; empty without one.",
    )
    published_on_note = models.TextField(
        "how the date was established",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="For example: inferred from the weekday named in the text.",
    )
    retrieved_on = models.DateField("retrieved", null=True, blank=True)
    archive_url = models.URLField(
        "archived copy URL", max_length=1000, blank=True, help_text="A web archive copy, if any."
    )
    body = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_ARTICLE_BODY)],
        help_text="The article's text, pasted so quotes can be checked against it. "
        "Never shown in full on public pages.",
    )
    notes = models.TextField(
        "editor's notes",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Internal; never public.",
    )

    history = HistoricalRecords()

    class Meta(Publishable.Meta):
        ordering = [F("published_on").desc(nulls_last=True), "headline", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="sources_article_url_unique_when_present",
                violation_error_message="Another article already has this URL.",
            ),
            date_has_precision(
                "published_on",
                "published_on_precision",
                name="sources_article_date_has_precision",
                message="A publication date needs its precision, and only then.",
            ),
        ]
        indexes = [
            # /sources/ and the article downloads, newest first (the default order); the date-range filter.
            NewestFirstIndex(
                fields=["publication_status", "-published_on", "headline", "id"],
                name="sources_article_newest",
            ),
        ]

    def __str__(self):
        return self.display_headline

    def get_absolute_url(self):
        # The public article pages are served by the talks app; only the URL name is shared.
        return path_to("source_detail", self.pk)

    @property
    def display_headline(self) -> str:
        if self.headline:
            return self.headline
        outlet = self.outlet.name if self.outlet_id else "unknown outlet"
        return f"[No headline] article #{self.pk or 'new'} ({outlet})"

    @property
    def publication_date_label(self) -> str:
        return describe_date(self.published_on, self.published_on_precision)

    def clean(self):
        self.url = normalize_url(self.url)
        check_date_precision(self.published_on, self.published_on_precision, "published_on_precision")

    def save(self, *args, **kwargs):
        # Normalised on every save, not only in forms, so imports and scripts store the same form.
        self.url = normalize_url(self.url)
        super().save(*args, **kwargs)

"""Negotiation rounds, who took part, what was discussed, and the claims that tie them to sources."""

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from config.paths import path_to
from sources.models import SourceArticle
from sources.quotes import comparable, quote_occurs_in
from sources.record_base import (
    MAX_NOTE,
    DatePrecision,
    LinkQuerySet,
    NewestFirstIndex,
    NullsLastIndex,
    Publishable,
    Timestamped,
    check_date_precision,
    date_has_precision,
    describe_date,
    last_public_change,
    list_items,
    public_condition,
    stable_key_field,
)
from talks.querysets import ClaimQuerySet


class Party(Timestamped):
    """A state or organisation taking part in talks: Russia, Ukraine, the United States, ..."""

    class Kind(models.TextChoices):
        STATE = "state", "State"
        ORGANISATION = "organisation", "Organisation"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"

    def __str__(self):
        return self.name


class Track(Timestamped):
    """A negotiation process whose rounds follow one another, e.g. "US-brokered trilateral talks, 2026"."""

    name = models.CharField(max_length=300, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_NOTE)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return path_to("track_detail", self.slug)


class Round(Publishable):
    class Format(models.TextChoices):
        BILATERAL = "bilateral", "Bilateral"
        TRILATERAL = "trilateral", "Trilateral"
        MULTILATERAL = "multilateral", "Multilateral"
        PROXIMITY = "proximity", "Proximity (mediator shuttles between parties)"

    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        HELD = "held", "Held"
        POSTPONED = "postponed", "Postponed"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="rounds")
    sequence = models.PositiveIntegerField(
        help_text="This round's place in its track: 1 for the first round, 2 for the next, ..."
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True, help_text="Same as the start for one day.")
    date_precision = models.CharField(max_length=16, choices=DatePrecision.choices, default=DatePrecision.DAY)
    dates_note = models.TextField(
        "how the dates were established",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="For example: inferred from the weekdays the articles name.",
    )
    city = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=200, blank=True)
    venue = models.CharField(max_length=300, blank=True, help_text="As reported.")
    format = models.CharField(max_length=16, choices=Format.choices, blank=True)
    status = models.CharField(
        "status of the round",
        max_length=16,
        choices=Status.choices,
        default=Status.HELD,
    )
    summary = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_NOTE)])
    outcome = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_NOTE)])

    history = HistoricalRecords()

    class Meta(Publishable.Meta):
        ordering = [F("start_date").desc(nulls_last=True), "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=F("start_date"))
                ),
                name="talks_round_ends_on_or_after_start",
                violation_error_message="A round cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["track", "sequence"],
                name="talks_round_unique_sequence_in_track",
                violation_error_message="Another round of this track already has this number.",
            ),
        ]
        indexes = [
            # /rounds/ and the round downloads, newest first (the default order); the year and
            # date-range filters.
            NewestFirstIndex(
                fields=["publication_status", "-start_date", "title", "id"], name="talks_round_newest"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return path_to("round_detail", self.slug)

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError(
                {"end_date": "The end date is before the start date: a round cannot end before it starts."}
            )
        if self.is_published and not self.start_date:
            raise ValidationError({"start_date": "A round cannot be published without a start date."})

    def publication_problems(self) -> list[str]:
        return [] if self.start_date else ["it has no start date"]

    @property
    def dates_label(self) -> str:
        """The round's dates as precisely as the sources establish them."""
        start = describe_date(self.start_date, self.date_precision)
        if self.start_date is None or self.end_date is None or self.end_date == self.start_date:
            return start
        if self.date_precision == DatePrecision.DAY and self.start_date.replace(
            day=1
        ) == self.end_date.replace(day=1):
            return f"{self.start_date.day}–{describe_date(self.end_date, self.date_precision)}"
        return f"{start} – {describe_date(self.end_date, self.date_precision)}"

    def previous_in_track(self):
        return (
            Round.objects.filter(track_id=self.track_id, sequence__lt=self.sequence)
            .order_by("-sequence")
            .first()
        )

    def next_in_track(self):
        return (
            Round.objects.filter(track_id=self.track_id, sequence__gt=self.sequence)
            .order_by("sequence")
            .first()
        )


class Delegation(Timestamped):
    """A party's team at one round."""

    class Role(models.TextChoices):
        NEGOTIATING_PARTY = "negotiating", "Negotiating party"
        MEDIATOR = "mediator", "Mediator"
        OBSERVER = "observer", "Observer"
        HOST = "host", "Host"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="delegations")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="delegations")
    role = models.CharField(
        "role at the round",
        max_length=16,
        choices=Role.choices,
        default=Role.NEGOTIATING_PARTY,
    )
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_NOTE)])

    objects = LinkQuerySet.as_manager()
    public_with = ("round",)  # a party has no publication status

    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "party__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "party"],
                name="talks_delegation_one_per_party_per_round",
                violation_error_message="This party already has a delegation at this round.",
            ),
        ]

    def __str__(self):
        return f"{self.party} at {self.round}"


class Participant(Publishable):
    """A person who took part in, or spoke about, the talks."""

    name = models.CharField(max_length=200, help_text="The spelling the archive uses.")
    slug = models.SlugField(max_length=200, unique=True)
    aliases = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Other spellings and transliterations, one per line (Medinski for Medinsky). "
        "Searched along with the name.",
    )
    description = models.CharField(
        max_length=500, blank=True, help_text="One line: who they are, as the sources describe them."
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participants",
        help_text="The party they represent, if any.",
    )
    # The kinds of seat they held at published rounds ("adviser head"), stored so that a filtered
    # people list counts its "Seat held" facet from its own rows; talks/evidence.py keeps it current.
    seat_roles = models.CharField(max_length=100, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["seat_roles"])

    class Meta(Publishable.Meta):
        ordering = ["name"]
        indexes = [
            # /participants/, in name order.
            models.Index(fields=["publication_status", "name"], name="talks_participant_public_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return path_to("participant_detail", self.slug)

    @property
    def alias_list(self) -> list[str]:
        return list_items(self.aliases)


class Membership(Timestamped):
    """One person's seat in one delegation."""

    class Role(models.TextChoices):
        HEAD = "head", "Head of delegation"
        MEMBER = "member", "Member"
        ADVISER = "adviser", "Adviser"
        MILITARY = "military", "Military representative"
        OTHER = "other", "Other"

    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="memberships")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    title = models.CharField(
        "title held then", max_length=300, blank=True, help_text="Their office at the time of the round."
    )

    objects = LinkQuerySet.as_manager()
    public_with = ("delegation", "participant")

    history = HistoricalRecords()

    class Meta:
        ordering = ["delegation", "participant__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["delegation", "participant"],
                name="talks_membership_one_seat_per_person_per_delegation",
                violation_error_message="This person already has a seat in this delegation.",
            ),
        ]

    def __str__(self):
        return f"{self.participant} ({self.get_role_display()}), {self.delegation}"


class Issue(Publishable):
    """A topic of negotiation; sub-issues sit under a parent (Donbas under Territory)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(MAX_NOTE)])
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The broader issue this one belongs to, if any.",
    )

    history = HistoricalRecords()

    class Meta(Publishable.Meta):
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="talks_issue_not_its_own_parent",
                violation_error_message="An issue cannot be its own parent.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return path_to("issue_detail", self.slug)

    def clean(self):
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": "An issue cannot sit beneath itself or its own sub-issue."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if self.is_published and self.publication_problems():
            raise ValidationError(
                {"parent": f"This issue cannot be published: {self.publication_problems()[0]}."}
            )

    def publication_problems(self) -> list[str]:
        """A sub-issue is public only beneath a published issue: readers would reach it from there."""
        if self.parent_id and not Issue.objects.published().filter(pk=self.parent_id).exists():
            return ["its parent issue is not published; publish that first"]
        return []


class ClaimIssue(models.Model):
    """That a claim is about an issue. An issue that claims are about cannot be deleted."""

    claim = models.ForeignKey("Claim", on_delete=models.CASCADE, related_name="issue_links")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="claim_links")

    objects = LinkQuerySet.as_manager()
    public_with = ("claim", "issue")

    class Meta:
        verbose_name = "claim's issue"
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "issue"], name="talks_claimissue_one_link_per_claim_and_issue"
            ),
        ]
        indexes = [
            # Claims on an issue: ?issue= filters, issue pages, issue feeds, facets.
            models.Index(fields=["issue", "claim"], name="talks_claimissue_by_issue"),
        ]

    def __str__(self):
        return f"“{self.claim}” is about {self.issue}"


MAX_ATTRIBUTION = 300
MAX_QUOTE = 1000  # a quote is a phrase or one sentence
MAX_CLAIM_TEXT = 2000  # a claim is one sentence, a few hundred characters at most


class Sourcing(models.TextChoices):
    """How the articles report a claim."""

    REPORTED = "reported", "Reported by the articles as fact"
    ON_RECORD = "on_record", "On the record"
    UNNAMED_SOURCES = "unnamed_sources", "From unnamed or unofficial sources"
    HEDGED = "hedged", "Reportedly (no source named)"
    ANALYSIS = "analysis", "The article's own analysis"


class Occurrence(models.TextChoices):
    """For an event or plan: what the articles report of it."""

    EXPECTED = "expected", "Expected or announced"
    HAPPENED = "happened", "Happened"
    DID_NOT_HAPPEN = "did_not_happen", "Did not happen"


class Claim(Publishable):
    """The archive's atomic statement, backed by the articles that reported it."""

    class Kind(models.TextChoices):
        STATEMENT = "statement", "Statement"
        DEMAND = "demand", "Demand"
        PROPOSAL = "proposal", "Proposal"
        EVENT = "event", "Event"
        FIGURE = "figure", "Figure"
        OUTCOME = "outcome", "Outcome"
        CONTEXT = "context", "Context"

    key = stable_key_field()
    text = models.TextField(
        validators=[MaxLengthValidator(MAX_CLAIM_TEXT)],
        help_text="One sentence in the editor's words; the quotes go in citations.",
    )
    round = models.ForeignKey(Round, on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    issues = models.ManyToManyField(Issue, through=ClaimIssue, blank=True, related_name="claims")
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The party the claim is attributed to or is about.",
    )
    speaker = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        help_text="The person quoted or reported, if any.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATEMENT)
    sourcing = models.CharField(
        "how it is sourced",
        max_length=16,
        choices=Sourcing.choices,
        default=Sourcing.REPORTED,
        help_text="How the articles report it. Keep their hedges: what they report from unnamed sources "
        "or with a “reportedly” is never recorded as fact or as a named person's statement.",
    )
    attribution = models.CharField(
        max_length=MAX_ATTRIBUTION,
        blank=True,
        help_text="The article's own words for who says it: “According to Ukrainian diplomatic sources”, "
        "“reportedly”, “a Russian source told”. Shown to readers before the claim.",
    )
    occurrence = models.CharField(
        "reported as",
        max_length=16,
        choices=Occurrence.choices,
        blank=True,
        help_text="For an event or plan: whether the articles report it as expected or announced, as "
        "having happened, or as not having happened. Empty for positions, opinions and figures. "
        "An article written before an event supports only that it was expected.",
    )
    date = models.DateField(null=True, blank=True, help_text="When it was said or happened, if known.")
    date_precision = models.CharField(
        max_length=16,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Required with a date; empty without one.",
    )
    date_note = models.TextField(
        "how the date was established",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Say how an inferred date was inferred, the year included.",
    )
    notes = models.TextField(
        "editor's notes",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Internal; never public.",
    )
    articles = models.ManyToManyField(SourceArticle, through="Citation", related_name="claims")
    # The second reading: who last changed what a check covers, and who checked it since. Editors see
    # the names; readers see only the date of the check.
    content_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="text, sourcing or citations last changed by",
    )
    checked_on = models.DateField(
        "checked against its sources on",
        null=True,
        blank=True,
        editable=False,
        help_text="When a second editor checked it against every citation; cleared by any change to "
        "what they checked.",
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="checked by",
    )
    # The date lists filter and order by: the claim's own date, or else its round's start. Stored
    # like the evidence below, so lists neither join the rounds nor compute it per row.
    listed_on = models.DateField(null=True, blank=True, editable=False)
    # The claim's evidence, derived from its citations of published articles and stored so that lists
    # filter and order by it without counting citations per request. talks/evidence.py keeps it
    # current whenever a citation, the claim or a cited article changes; editors never type it.
    outlet_count = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="How many distinct outlets report the claim; an article of unknown outlet counts as one.",
    )
    disputed = models.BooleanField(
        default=False, editable=False, help_text="Whether any article disputes it."
    )

    objects = ClaimQuerySet.as_manager()

    # Derived fields are left out of the history: they change with citations, not with editing.
    history = HistoricalRecords(
        m2m_fields=[issues], excluded_fields=["outlet_count", "disputed", "listed_on"]
    )

    class Meta(Publishable.Meta):
        ordering = [F("listed_on").desc(nulls_last=True), "id"]
        constraints = [
            date_has_precision(
                "date",
                "date_precision",
                name="talks_claim_date_has_precision",
                message="A claim's date needs its precision, and only then.",
            ),
        ]
        indexes = [
            # /claims/ and the claim downloads: published claims, newest date first (the default order).
            NewestFirstIndex(fields=["publication_status", "-listed_on", "id"], name="talks_claim_newest"),
            # The home page's latest claims.
            models.Index(fields=["publication_status", "-created_at"], name="talks_claim_public_latest"),
            # /claims/?kind=, alone or with other filters (each kind is only part of the claims).
            # With the id, PostgreSQL lists the matching ids from the index alone
            # (list_index.MatchingIds), so that ?issue=&kind= need not read the table's pages.
            models.Index(fields=["publication_status", "kind", "id"], name="talks_claim_public_kind_ids"),
            # /claims/?ordering=-outlets: the most widely reported first, ties by id (and ?min_outlets=).
            models.Index(
                fields=["publication_status", "-outlet_count", "id"], name="talks_claim_public_by_reach"
            ),
            # The claims feeds, of all claims and of an issue's (talks/feeds.py): the last public
            # change first. Without it PostgreSQL would sort every published claim to find the
            # few a feed shows.
            NullsLastIndex(
                F("publication_status"),
                last_public_change().desc(nulls_last=True),
                F("id").desc(),
                name="talks_claim_public_changes",
            ),
        ]

    def __str__(self):
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"

    def publication_problems(self) -> list[str]:
        problems = []
        if not (self.pk and self.citations.filter(public_condition(SourceArticle, "article__")).exists()):
            problems.append("it has no citation of a published article")
        if self.checked_on is None:
            problems.append(NOT_CHECKED)
        return problems

    def get_absolute_url(self):
        return path_to("claim_detail", self.pk)

    @property
    def date_label(self) -> str:
        return describe_date(self.date, self.date_precision)

    @property
    def attribution_label(self) -> str:
        """What a reader sees before the claim's text: the article's words for its source, or how
        it is sourced when there are none; nothing for what the articles report as fact."""
        if self.attribution:
            return self.attribution
        if self.sourcing in (Sourcing.REPORTED, Sourcing.ON_RECORD):
            return ""
        return self.get_sourcing_display()

    def clean(self):
        check_date_precision(self.date, self.date_precision, "date_precision")
        if self.sourcing == Sourcing.UNNAMED_SOURCES and self.speaker_id:
            raise ValidationError(
                {"speaker": "A claim from unnamed sources has no named speaker: leave the speaker empty."}
            )
        if self.is_published and not self.check_would_stand():
            stored_public = type(self)._base_manager.filter(public_condition(type(self)), pk=self.pk)
            if not self.pk or not stored_public.exists():
                raise ValidationError(
                    f"This claim cannot be published yet: {NOT_CHECKED}. Save it as a draft; another "
                    "editor then checks it against every citation and records the check."
                )
        if self.pk:
            citations = list(self.citations.select_related("article"))
            for citation in citations:
                citation.claim = self  # as the form has it, not as stored
            early = [citation for citation in citations if citation.too_early()]
            if early:
                raise ValidationError({"occurrence": too_early_message(early[0].article)})

    def checked_content(self) -> dict:
        """What a second reader checks against the citations; changing any of it clears their check."""
        return {name: getattr(self, name) for name in CHECKED_FIELDS}

    def save(self, *args, **kwargs):
        if self.pk and self.checked_on is not None and self.pk not in _keeping_checks.get():
            stored = (
                type(self)
                ._base_manager.filter(pk=self.pk)
                .values(*CHECKED_FIELDS, "checked_on", "checked_by")
                .first()
            )
            if stored is not None:
                stored_check = (stored.pop("checked_on"), stored.pop("checked_by"))
                recording = getattr(self, "_recording_check", False)
                # Only the second reading sets a check: a version restored from history, with the
                # check it had then, does not bring it back over what has changed since.
                if not recording and (self.checked_on, self.checked_by_id) != stored_check:
                    self.checked_on, self.checked_by_id = stored_check
                if not recording and stored != self.checked_content():
                    self.checked_on = self.checked_by = None
        super().save(*args, **kwargs)

    def check_would_stand(self) -> bool:
        """Whether this claim, as edited, keeps the check it has: none of what a check covers changed."""
        if self.checked_on is None:
            return False
        if not self.pk:
            return True
        stored = type(self)._base_manager.filter(pk=self.pk).values(*CHECKED_FIELDS).first()
        return stored is None or stored == self.checked_content()

    def clear_check(self) -> None:
        """A citation changed: the second reader's check no longer covers what the claim rests on."""
        if self.pk not in _keeping_checks.get():
            Claim._base_manager.filter(pk=self.pk).update(checked_on=None, checked_by=None)
            self.checked_on = self.checked_by = None


CHECKED_FIELDS = (
    "text",
    "kind",
    "sourcing",
    "attribution",
    "occurrence",
    "speaker_id",
    "party_id",
    "round_id",
    "date",
    "date_precision",
)
NOT_CHECKED = "no second editor has checked it against its sources"
_keeping_checks = contextvars.ContextVar("keeping_checks", default=frozenset())


@contextmanager
def keeping_checks():
    """Yields a set for the claims an import creates with their citations, as its package records
    them: the package's check date stands for such a claim as written, so its citations do not clear
    it. A claim the archive already holds keeps its own check, cleared by any change, as always."""
    created = set()
    token = _keeping_checks.set(created)
    try:
        yield created
    finally:
        _keeping_checks.reset(token)


def too_early_message(article) -> str:
    return (
        f"“{article}” was published ({article.publication_date_label}) before what the claim reports "
        "happened: it supports only that it was expected or announced."
    )


class Citation(Timestamped):
    """One article's backing for one claim, with the words it used."""

    class Stance(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        DISPUTES = "disputes", "Disputes"
        MENTIONS = "mentions", "Mentions"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")
    article = models.ForeignKey(SourceArticle, on_delete=models.PROTECT, related_name="citations")
    quote = models.TextField(
        validators=[MaxLengthValidator(MAX_QUOTE)],
        help_text="Copied exactly from the article: a phrase or one sentence. "
        "Checked against the article's stored text when there is one. "
        "The claim may cite the same article again with another quote.",
    )
    stance = models.CharField(max_length=16, choices=Stance.choices, default=Stance.SUPPORTS)
    note = models.TextField(
        "public note",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Shown to readers beside the quote: how this article's wording differs "
        "(“says ‘over 390’”, “past tense: an earlier proposal”).",
    )
    editor_note = models.TextField(
        "editor's note",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Internal; never public.",
    )

    objects = LinkQuerySet.as_manager()
    public_with = ("claim", "article")

    history = HistoricalRecords()

    class Meta:
        ordering = ["claim", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "article", "quote"],
                name="talks_citation_one_per_claim_article_and_quote",
                violation_error_message="This claim already cites this quote of this article.",
            ),
        ]
        indexes = [
            # How many claims cite an article (the /sources/ list and article pages).
            models.Index(fields=["article", "claim"], name="talks_citation_by_article"),
        ]

    def __str__(self):
        return f"{self.article} → {self.claim}"

    def too_early(self) -> bool:
        """Whether this supporting article was published before the day the claim says its event
        happened."""
        claim, article = self.claim, self.article
        if (
            self.stance != self.Stance.SUPPORTS
            or claim.occurrence != Occurrence.HAPPENED
            or article.published_on is None
            or article.published_on_precision == DatePrecision.MONTH
        ):
            return False
        # Only the claim's own date says when the event was: a claim of a round may report what
        # happened before it (a negotiator's appointment), so the round's dates cannot tell.
        return claim.date is not None and article.published_on < claim.date

    def clean(self):
        if not self.article_id or not self.quote:
            return
        article = SourceArticle.objects.filter(pk=self.article_id).first()
        if article is None:
            return
        self.article = article
        if article.body and not quote_occurs_in(self.quote, article.body):
            raise ValidationError(
                {
                    "quote": "This quote does not occur in the article's stored text. "
                    "Copy it exactly; only whitespace and the style of quote marks may differ."
                }
            )
        try:
            claim = self.claim
        except Claim.DoesNotExist:
            return
        if self.stance == self.Stance.SUPPORTS and claim.speaker_id and article.body:
            speaker = claim.speaker
            if not names_near(speaker, self.quote, article.body):
                raise ValidationError(
                    {
                        "quote": f"The article does not name {speaker} in or near this quote, so it "
                        f"cannot be recorded as {speaker}'s statement. Cite their own words, or record "
                        "whom the article names as a claim of its own."
                    }
                )
        if self.too_early():
            raise ValidationError({"stance": too_early_message(article)})

    def save(self, *args, **kwargs):
        stored = None
        if self.pk:
            stored = (
                Citation._base_manager.filter(pk=self.pk)
                .values("claim_id", "article_id", "quote", "stance", "note")
                .first()
            )
        current = {f: getattr(self, f) for f in ("claim_id", "article_id", "quote", "stance", "note")}
        super().save(*args, **kwargs)
        if stored != current:
            self.claim.clear_check()
            if stored and stored["claim_id"] != self.claim_id:
                Claim(pk=stored["claim_id"]).clear_check()


def clear_check_of_cited_claim(sender, instance, **kwargs):
    """A citation deleted, one by one, in bulk or with its article: its claim's check is gone. (A
    claim deleted with its citations has nothing left to clear.)"""
    Claim(pk=instance.claim_id).clear_check()


models.signals.post_delete.connect(
    clear_check_of_cited_claim, sender=Citation, dispatch_uid="clear_check_of_cited_claim"
)


NEAR = 300  # characters either side of a quote in which an article names who said it


def names_near(person, quote: str, body: str) -> bool:
    """Whether the article names `person` (any word of their name of four letters or more, or an
    alias) in the quote or within NEAR characters of it: where an article reports someone's words,
    it names them there."""
    names = [person.name, *person.alias_list]
    words = {word for name in names for word in name.replace("-", " ").split() if len(word) >= 4}
    text, needle = comparable(body), comparable(quote)
    at = text.find(needle)
    window = text[max(0, at - NEAR) : at + len(needle) + NEAR] if at >= 0 else needle
    return any(word.casefold() in window.casefold() for word in words)


class Disagreement(Publishable):
    """A question on which the articles differ, and the claims that give each version of the answer."""

    slug = models.SlugField(max_length=200, unique=True)
    question = models.CharField(
        max_length=300,
        help_text="A neutral question: “How many drones did Russia launch before the talks?”",
    )
    description = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="How the articles differ, in one or two neutral sentences.",
    )
    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, null=True, blank=True, related_name="disagreements"
    )
    claims = models.ManyToManyField(Claim, through="DisagreementClaim", related_name="disagreements")
    notes = models.TextField(
        "editor's notes",
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Internal; never public.",
    )

    history = HistoricalRecords()

    class Meta(Publishable.Meta):
        ordering = ["question", "id"]

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return path_to("disagreement_detail", self.slug)

    def publication_problems(self) -> list[str]:
        published = self.pk and self.versions.filter(public_condition(Claim, "claim__")).count()
        return [] if published and published >= 2 else ["it has fewer than two published claims"]


class DisagreementClaim(models.Model):
    """One version of a disagreement's answer: a claim, and the answer it gives."""

    disagreement = models.ForeignKey(Disagreement, on_delete=models.CASCADE, related_name="versions")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="disagreement_links")
    version = models.CharField(
        max_length=200, help_text="The answer this claim gives, in a few words: “396 drones”, “reinstated”."
    )

    objects = LinkQuerySet.as_manager()
    public_with = ("disagreement", "claim")

    history = HistoricalRecords()

    class Meta:
        ordering = ["disagreement", "id"]
        verbose_name = "version"
        constraints = [
            models.UniqueConstraint(
                fields=["disagreement", "claim"],
                name="talks_disagreementclaim_one_per_claim",
                violation_error_message="This claim is already a version of this disagreement.",
            ),
        ]
        indexes = [
            # A claim's disagreements, on its card and for ?disagreement= on the claims list.
            models.Index(fields=["claim", "disagreement"], name="talks_disagreement_by_claim"),
        ]

    def __str__(self):
        return f"{self.version}: {self.claim}"


class PublicChange(models.Model):
    """One entry of the public corrections log (/changes/): a change readers could see.

    Written when a record's history gains a version that publishes, withdraws or visibly changes a
    published record; only public fields are named, and only the editor's public note is shown.
    """

    class Kind(models.TextChoices):
        PUBLISHED = "published", "Published"
        UPDATED = "updated", "Updated"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DELETED = "deleted", "Deleted"

    at = models.DateTimeField(db_index=True)  # serves /changes/, newest first
    kind = models.CharField(max_length=16, choices=Kind.choices)
    record_type = models.CharField(max_length=64)  # the model's verbose name: "round", "claim", ...
    record_label = models.CharField(max_length=300)
    record_path = models.CharField(max_length=300, help_text="The record's public address.")
    # Its stable key (a slug; a claim's or an article's `key`), which outlives the record: the API's
    # feed of removals (/api/v1/removals/) names what a copy of the archive must drop by it.
    record_key = models.CharField(max_length=64, blank=True)
    changed_fields = models.CharField(max_length=500, blank=True)
    note = models.TextField(blank=True, help_text="The editor's public note, or the reason for a withdrawal.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.record_type} “{self.record_label}”"


class ListVersion(models.Model):
    """The version of a list's records (and, under "dataset", of the data package), moved by
    database triggers in the same transaction as every write to what it covers: each server
    process's in-memory copy of a list (talks/list_index.py) reads it first, and the changes logged
    since the version it holds. The token is new with every version, so that a version number
    reused after a rollback is told from the one a process saw."""

    name = models.CharField(max_length=40, primary_key=True)  # "claims"
    version = models.BigIntegerField(default=0)
    token = models.CharField(max_length=40)

    def __str__(self):
        return f"{self.name}: {self.version} ({self.token})"


class ListChange(models.Model):
    """A record whose values a list holds was added, changed or deleted, under the list's version
    (talks/list_index.py). Written by triggers only; a list keeps its latest versions' rows."""

    list = models.CharField(max_length=40)
    version = models.BigIntegerField()
    token = models.CharField(max_length=40)
    key = models.BigIntegerField(null=True)  # none: the version a list started at after `migrate`

    class Meta:
        indexes = [models.Index(fields=["list", "version"], name="talks_listchange_version")]

    def __str__(self):
        return f"{self.list} {self.version}: {self.key}"


class Release(models.Model):
    """A frozen data package of the published archive, cut by a chief editor (talks/releases.py).

    Its zip is kept under RELEASES_DIR for ever and its version is never reused: a citation names the
    version, and the version names exactly one set of files, whose checksums are recorded here."""

    version = models.CharField(max_length=32, unique=True, editable=False)
    released_at = models.DateTimeField(db_index=True, editable=False)
    cut_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    notes = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(MAX_NOTE)],
        help_text="Public: shown with the release, e.g. what it was cut for.",
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    file_name = models.CharField(max_length=100, editable=False)
    size = models.BigIntegerField(editable=False)
    sha256 = models.CharField("SHA-256 of the zip", max_length=64, editable=False)
    # {table: rows}, and {table: {"added"|"changed"|"removed": [keys]}} against `previous`.
    record_counts = models.JSONField(default=dict, editable=False)
    changelog = models.JSONField(default=dict, editable=False)

    class Meta:
        ordering = ["-released_at", "-id"]
        # Releases are never edited or deleted; chief editors cut them.
        default_permissions = ("view",)
        permissions = [("cut_release", "Can cut a release of the published archive")]

    def __str__(self):
        return f"Release {self.version}"

    def get_absolute_url(self):
        return path_to("release_detail", self.version)

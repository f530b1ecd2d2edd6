"""The archive's tables and columns, defined once.

These definitions produce the CSV headers, the Table Schemas of the data package, the checks the
importer applies, and (through the same objects) the public codebook. Change a column here and all of
them change together.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet

from sources.models import Outlet, SourceArticle
from sources.record_base import DatePrecision, PublicationStatus
from talks.models import (
    Citation,
    Claim,
    Delegation,
    Disagreement,
    DisagreementClaim,
    Issue,
    Membership,
    Occurrence,
    Participant,
    Party,
    Round,
    Sourcing,
    Track,
)

STRING, DATE, INTEGER, BOOLEAN = "string", "date", "integer", "boolean"
# The longest cell of a date or a whole number, which have no length limit of their own.
SHORT_CELL = 100
ALIAS_SEPARATOR = "; "


@dataclass(frozen=True)
class Reference:
    """A column that holds the key of a row in another table."""

    table: str
    column: str
    model: type[models.Model]
    lookup: str  # the referenced model's key field


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    path: str = ""  # the ORM path read on export; defaults to the column name
    type: str = STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    reference: Reference | None = None
    internal: bool = False  # editorial only: exported with --all, never in the public dataset
    multiline_list: bool = False  # stored one item per line, written as "a; b" in a cell
    # A many-to-many field of the model: the column lists the related records' `path` values.
    many_to_many: str = ""

    @property
    def orm_path(self) -> str:
        return self.path or self.name


@dataclass(frozen=True)
class Table:
    name: str
    model: type[models.Model]
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    # The rows readers may see. Tables without a publication status of their own are public through
    # the published records they belong to (their model's `public_with`).
    public: Callable[[QuerySet], QuerySet]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = field(default=())

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def public_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if not column.internal)

    def field(self, column: Column) -> models.Field:
        """The model field a column holds, through its references: `round__slug` is a round's slug."""
        model = self.model
        *relations, name = column.orm_path.split("__")
        for relation in relations:
            model = model._meta.get_field(relation).related_model
        return model._meta.get_field(name)

    def cell_limit(self, column: Column) -> int:
        """The most characters a cell of the column may hold: its model field's limit, the one the
        admin's forms enforce."""
        if column.type in (DATE, INTEGER):
            return SHORT_CELL
        field = self.field(column)
        limits = [v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)]
        if not limits:
            raise ImproperlyConfigured(f"{field} has no length limit, so its column {column.name} has none")
        return min(limits)

    def row_limit(self) -> int:
        """The most characters a row of the table's file may take: every cell at its limit, quoted,
        each of its characters a quote mark (which CSV doubles), and a delimiter."""
        return sum(2 * self.cell_limit(column) + 3 for column in self.columns)


def published(queryset: QuerySet) -> QuerySet:
    """The rows readers see, by the one rule (sources/record_base.py): a record when it is published, a
    link when every record it joins is."""
    return queryset.published()


def values(choices) -> tuple[str, ...]:
    return tuple(choices.values)


def ref(table: str, model, lookup: str = "slug") -> Reference:
    return Reference(table=table, column=lookup, model=model, lookup=lookup)


def publication_status() -> Column:
    return Column(
        "publication_status",
        "Whether readers see the record: published; draft or withdrawn only in an editors' dump.",
        required=True,
        choices=values(PublicationStatus),
    )


def withdrawal_reason() -> Column:
    return Column(
        "withdrawal_reason",
        "Why a withdrawn record was withdrawn, as its public notice says. Editors' dump only.",
        internal=True,
    )


def editors_notes() -> Column:
    return Column("notes", "Editor's notes. Editorial only.", internal=True)


def round_concerned() -> Column:
    return Column(
        "round",
        "The round it concerns (rounds.slug), if any.",
        reference=ref("rounds", Round),
        path="round__slug",
    )


OUTLETS = Table(
    "outlets",
    Outlet,
    "Publications that published the source articles.",
    (
        Column("slug", "Stable key of the outlet.", required=True),
        Column("name", "The outlet's name as it gives it.", required=True),
        Column("homepage", "The outlet's home page; empty if not known."),
    ),
    primary_key=("slug",),
    public=lambda rows: rows.filter(Exists(SourceArticle.objects.published().filter(outlet=OuterRef("pk")))),
)

ARTICLES = Table(
    "articles",
    SourceArticle,
    "Source articles: the reports every claim is traced to. Unknown values are empty, never guessed.",
    (
        Column("key", "Stable key of the article.", required=True),
        Column("headline", "The headline as printed; empty when the copy in hand has none."),
        Column("url", "The original address, without tracking parameters; empty if not known."),
        Column(
            "outlet",
            "The outlet (outlets.slug); empty when the copy does not name it.",
            reference=ref("outlets", Outlet),
            path="outlet__slug",
        ),
        Column("author", "The byline; empty if none."),
        Column("language", "Language of the copy quoted, as a code such as en or fr.", required=True),
        Column("published_on", "Publication date; empty if neither stated nor inferable.", type=DATE),
        Column(
            "published_on_precision",
            "How precise the publication date is; empty without a date.",
            choices=values(DatePrecision),
        ),
        Column("published_on_note", "How the publication date was established."),
        Column("retrieved_on", "When the archive's copy was retrieved.", type=DATE),
        Column("archive_url", "A web archive copy; empty if none."),
        publication_status(),
        withdrawal_reason(),
        Column("body", "The article's text, kept for checking quotes. Editorial only.", internal=True),
        editors_notes(),
    ),
    primary_key=("key",),
    public=published,
    foreign_keys=((("outlet",), "outlets", ("slug",)),),
)

PARTIES = Table(
    "parties",
    Party,
    "States and organisations taking part in talks.",
    (
        Column("slug", "Stable key of the party.", required=True),
        Column("name", "Name of the party.", required=True),
        Column("kind", "State or organisation.", required=True, choices=values(Party.Kind)),
    ),
    primary_key=("slug",),
    # The parties of the lists' filters (talks/list_specs.py `public_parties`): those of published
    # rounds, people or claims. EXISTS for each kind of reference: joined together, each party's
    # delegations, people and claims would multiply one another into rows for DISTINCT to discard.
    public=lambda rows: rows.filter(
        Exists(Delegation.objects.published().filter(party=OuterRef("pk")))
        | Exists(Participant.objects.published().filter(party=OuterRef("pk")))
        | Exists(Claim.objects.published().filter(party=OuterRef("pk")))
    ),
)

TRACKS = Table(
    "tracks",
    Track,
    "Negotiation processes whose rounds follow one another.",
    (
        Column("slug", "Stable key of the track.", required=True),
        Column("name", "Name of the track.", required=True),
        Column("description", "What the track is."),
    ),
    primary_key=("slug",),
    public=lambda rows: rows.filter(Exists(Round.objects.published().filter(track=OuterRef("pk")))),
)

ROUNDS = Table(
    "rounds",
    Round,
    "Rounds of talks: one meeting of a track.",
    (
        Column("slug", "Stable key of the round.", required=True),
        Column("title", "Title of the round.", required=True),
        Column(
            "track",
            "The track (tracks.slug).",
            required=True,
            reference=ref("tracks", Track),
            path="track__slug",
        ),
        Column("sequence", "The round's place in its track: 1, 2, ...", type=INTEGER, required=True),
        Column("start_date", "First day; empty if not known.", type=DATE),
        Column("end_date", "Last day; empty if not known.", type=DATE),
        Column("date_precision", "How precise the dates are.", required=True, choices=values(DatePrecision)),
        Column("dates_note", "How the dates were established."),
        Column("city", "City where the round was held."),
        Column("country", "Country where the round was held."),
        Column("venue", "Venue as reported."),
        Column(
            "format",
            "Bilateral, trilateral, multilateral or proximity; empty if not known.",
            choices=values(Round.Format),
        ),
        Column(
            "status", "Announced, held, postponed or cancelled.", required=True, choices=values(Round.Status)
        ),
        Column("summary", "What the round was about."),
        Column("outcome", "What it produced, as reported."),
        publication_status(),
        withdrawal_reason(),
    ),
    primary_key=("slug",),
    public=published,
    foreign_keys=((("track",), "tracks", ("slug",)),),
)

DELEGATIONS = Table(
    "delegations",
    Delegation,
    "A party's team at a round.",
    (
        Column(
            "round",
            "The round (rounds.slug).",
            required=True,
            reference=ref("rounds", Round),
            path="round__slug",
        ),
        Column(
            "party",
            "The party (parties.slug).",
            required=True,
            reference=ref("parties", Party),
            path="party__slug",
        ),
        Column("role", "The party's role at the round.", required=True, choices=values(Delegation.Role)),
        Column("notes", "What the sources say about the delegation as a whole."),
    ),
    primary_key=("round", "party"),
    public=published,
    foreign_keys=((("round",), "rounds", ("slug",)), (("party",), "parties", ("slug",))),
)

PARTICIPANTS = Table(
    "participants",
    Participant,
    "People who took part in, or spoke about, the talks.",
    (
        Column("slug", "Stable key of the person.", required=True),
        Column("name", "The spelling the archive uses.", required=True),
        Column("aliases", "Other spellings and transliterations, separated by '; '.", multiline_list=True),
        Column("description", "Who they are, as the sources describe them."),
        Column(
            "party",
            "The party they represent (parties.slug), if any.",
            reference=ref("parties", Party),
            path="party__slug",
        ),
        publication_status(),
        withdrawal_reason(),
    ),
    primary_key=("slug",),
    public=published,
    foreign_keys=((("party",), "parties", ("slug",)),),
)

MEMBERSHIPS = Table(
    "memberships",
    Membership,
    "Seats in delegations: who sat in which party's team at which round.",
    (
        Column(
            "round",
            "The round (rounds.slug).",
            required=True,
            reference=ref("rounds", Round),
            path="delegation__round__slug",
        ),
        Column(
            "party",
            "The party whose delegation it is (parties.slug).",
            required=True,
            reference=ref("parties", Party),
            path="delegation__party__slug",
        ),
        Column(
            "participant",
            "The person (participants.slug).",
            required=True,
            reference=ref("participants", Participant),
            path="participant__slug",
        ),
        Column("role", "Their role in the delegation.", required=True, choices=values(Membership.Role)),
        Column("title", "The title they held at the time."),
    ),
    primary_key=("round", "party", "participant"),
    public=published,
    foreign_keys=(
        (("round", "party"), "delegations", ("round", "party")),
        (("participant",), "participants", ("slug",)),
    ),
)

ISSUES = Table(
    "issues",
    Issue,
    "Topics of negotiation; a sub-issue names its parent.",
    (
        Column("slug", "Stable key of the issue.", required=True),
        Column("name", "Name of the issue.", required=True),
        Column("description", "What the issue covers."),
        Column(
            "parent",
            "The broader issue (issues.slug), if any.",
            reference=ref("issues", Issue),
            path="parent__slug",
        ),
        publication_status(),
        withdrawal_reason(),
    ),
    primary_key=("slug",),
    public=published,
    foreign_keys=((("parent",), "issues", ("slug",)),),
)

CLAIMS = Table(
    "claims",
    Claim,
    "Claims: the archive's atomic statements, each backed by citations.",
    (
        Column("key", "Stable key of the claim.", required=True),
        Column("text", "The claim in one sentence, in the editor's words.", required=True),
        round_concerned(),
        Column(
            "party",
            "The party it is attributed to or about (parties.slug), if any.",
            reference=ref("parties", Party),
            path="party__slug",
        ),
        Column(
            "speaker",
            "The person quoted or reported (participants.slug), if any.",
            reference=ref("participants", Participant),
            path="speaker__slug",
        ),
        Column("kind", "What sort of statement it is.", required=True, choices=values(Claim.Kind)),
        Column(
            "sourcing",
            "How the articles report it: as fact (reported), on the record from a named speaker or "
            "body (on_record), from unnamed or unofficial sources (unnamed_sources), hedged with no "
            "source (hedged), or as the article's own analysis (analysis).",
            required=True,
            choices=values(Sourcing),
        ),
        Column(
            "attribution",
            "The article's own words for who says it (“According to Ukrainian diplomatic sources”, "
            "“reportedly”); empty when the articles report it as fact or the speaker says it all.",
        ),
        Column(
            "occurrence",
            "For an event or plan: reported as expected (or announced), happened, or did_not_happen; "
            "empty for positions, opinions and figures.",
            choices=values(Occurrence),
        ),
        Column("date", "When it was said or happened, if the articles establish it.", type=DATE),
        Column(
            "date_precision",
            "How precise the date is; empty without a date.",
            choices=values(DatePrecision),
        ),
        Column("date_note", "How the date was established, when it was inferred."),
        Column(
            "checked_on",
            "The day a second editor checked the claim against every citation; empty if not checked "
            "since its text, sourcing or citations last changed.",
            type=DATE,
        ),
        publication_status(),
        withdrawal_reason(),
        editors_notes(),
    ),
    primary_key=("key",),
    public=published,
    foreign_keys=(
        (("round",), "rounds", ("slug",)),
        (("party",), "parties", ("slug",)),
        (("speaker",), "participants", ("slug",)),
    ),
)

CLAIM_ISSUES = Table(
    "claim_issues",
    Claim.issues.through,
    "Which issues each claim is about: one row per claim and issue.",
    (
        Column(
            "claim",
            "The claim (claims.key).",
            required=True,
            reference=ref("claims", Claim, "key"),
            path="claim__key",
        ),
        Column(
            "issue",
            "The issue (issues.slug).",
            required=True,
            reference=ref("issues", Issue),
            path="issue__slug",
        ),
    ),
    primary_key=("claim", "issue"),
    public=published,
    foreign_keys=((("claim",), "claims", ("key",)), (("issue",), "issues", ("slug",))),
)

CITATIONS = Table(
    "citations",
    Citation,
    "Citations: one row per claim and article that reported it, with the article's exact words.",
    (
        Column(
            "claim",
            "The claim (claims.key).",
            required=True,
            reference=ref("claims", Claim, "key"),
            path="claim__key",
        ),
        Column(
            "article",
            "The article (articles.key).",
            required=True,
            reference=ref("articles", SourceArticle, "key"),
            path="article__key",
        ),
        Column("quote", "The article's words, copied exactly.", required=True),
        Column(
            "stance",
            "Whether the article supports, disputes or merely mentions the claim.",
            required=True,
            choices=values(Citation.Stance),
        ),
        Column("note", "Public note: how this article's wording differs, shown beside the quote."),
        Column("editor_note", "Editor's note on the citation. Editorial only.", internal=True),
    ),
    primary_key=("claim", "article", "quote"),
    public=published,
    foreign_keys=((("claim",), "claims", ("key",)), (("article",), "articles", ("key",))),
)

DISAGREEMENTS = Table(
    "disagreements",
    Disagreement,
    "Questions on which the articles differ; each version of the answer is a claim (disagreement_claims).",
    (
        Column("slug", "Stable key of the disagreement.", required=True),
        Column("question", "The question on which the articles differ.", required=True),
        Column("description", "How the articles differ."),
        round_concerned(),
        publication_status(),
        withdrawal_reason(),
        editors_notes(),
    ),
    primary_key=("slug",),
    public=published,
    foreign_keys=((("round",), "rounds", ("slug",)),),
)

DISAGREEMENT_CLAIMS = Table(
    "disagreement_claims",
    DisagreementClaim,
    "The versions of each disagreement: one row per claim that gives one, with the answer it gives.",
    (
        Column(
            "disagreement",
            "The disagreement (disagreements.slug).",
            required=True,
            reference=ref("disagreements", Disagreement),
            path="disagreement__slug",
        ),
        Column(
            "claim",
            "The claim (claims.key).",
            required=True,
            reference=ref("claims", Claim, "key"),
            path="claim__key",
        ),
        Column("version", "The answer this claim gives, in a few words.", required=True),
    ),
    primary_key=("disagreement", "claim"),
    public=published,
    foreign_keys=((("disagreement",), "disagreements", ("slug",)), (("claim",), "claims", ("key",))),
)

# In dependency order: every table comes after the tables it refers to (issues refer to themselves).
TABLES = (
    OUTLETS,
    ARTICLES,
    PARTIES,
    TRACKS,
    ROUNDS,
    DELEGATIONS,
    PARTICIPANTS,
    MEMBERSHIPS,
    ISSUES,
    CLAIMS,
    CLAIM_ISSUES,
    CITATIONS,
    DISAGREEMENTS,
    DISAGREEMENT_CLAIMS,
)
TABLES_BY_FILE = {table.file_name: table for table in TABLES}


@dataclass(frozen=True)
class Export:
    """A table researchers download from a public list: `/<name>.csv` and `/<name>.json`."""

    name: str
    model: type[models.Model]
    description: str
    columns: tuple[Column, ...]
    filters_of: str  # the list whose filters it takes


# The list downloads. Most are a package table's public columns; claims add what their list shows,
# and citations and delegations are flattened so that one file answers one question.
EXPORTS = (
    Export("rounds", Round, ROUNDS.description, ROUNDS.public_columns(), "rounds"),
    Export(
        "claims",
        Claim,
        CLAIMS.description,
        (
            *CLAIMS.public_columns(),
            Column(
                "issues",
                "The claim's issues (issues.slug), separated by '; '.",
                many_to_many="issues",
                path="slug",
            ),
            Column(
                "outlet_count",
                "How many distinct outlets report the claim; an article of unknown outlet counts as one.",
                type=INTEGER,
                required=True,
            ),
            Column("disputed", "Whether any article disputes the claim.", type=BOOLEAN, required=True),
            Column(
                "listed_on",
                "The date the list filters and orders by: the claim's own date, or else its round's start.",
                type=DATE,
            ),
        ),
        "claims",
    ),
    Export("sources", SourceArticle, ARTICLES.description, ARTICLES.public_columns(), "sources"),
    Export(
        "participants", Participant, PARTICIPANTS.description, PARTICIPANTS.public_columns(), "participants"
    ),
    Export("issues", Issue, ISSUES.description, ISSUES.public_columns(), "issues"),
    Export(
        "disagreements",
        Disagreement,
        DISAGREEMENTS.description,
        DISAGREEMENTS.public_columns(),
        "disagreements",
    ),
    Export(
        "citations",
        Citation,
        "One row per claim and article that reported it. Takes the filters of the claims list.",
        (
            CITATIONS.column("claim"),
            Column(
                "claim_sourcing",
                "How the articles report the claim (see claims.sourcing).",
                path="claim__sourcing",
                required=True,
                choices=values(Sourcing),
            ),
            Column(
                "claim_attribution",
                "The article's own words for who says the claim (see claims.attribution).",
                path="claim__attribution",
            ),
            Column("claim_text", "The claim in the editor's words.", path="claim__text", required=True),
            CITATIONS.column("article"),
            Column("headline", "The article's headline; empty when it has none.", path="article__headline"),
            Column(
                "outlet",
                "The article's outlet (outlets.slug); empty if unknown.",
                path="article__outlet__slug",
            ),
            Column(
                "published_on",
                "The article's publication date; empty if unknown.",
                type=DATE,
                path="article__published_on",
            ),
            Column(
                "published_on_precision",
                "How precise that date is.",
                path="article__published_on_precision",
                choices=values(DatePrecision),
            ),
            CITATIONS.column("quote"),
            CITATIONS.column("stance"),
            CITATIONS.column("note"),
        ),
        "claims",
    ),
    Export(
        "delegations",
        Membership,
        "One row per seat: who sat in which party's delegation at which round. "
        "Takes the filters of the rounds list.",
        (
            MEMBERSHIPS.column("round"),
            MEMBERSHIPS.column("party"),
            Column(
                "delegation_role",
                "The party's role at the round.",
                path="delegation__role",
                required=True,
                choices=values(Delegation.Role),
            ),
            MEMBERSHIPS.column("participant"),
            Column(
                "seat_role",
                "The person's role in the delegation.",
                path="role",
                required=True,
                choices=values(Membership.Role),
            ),
            MEMBERSHIPS.column("title"),
        ),
        "rounds",
    ),
)
EXPORTS_BY_NAME = {export.name: export for export in EXPORTS}

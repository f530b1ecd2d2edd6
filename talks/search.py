"""Searching the whole archive: rounds, claims, articles, people (aliases too) and issues.

On PostgreSQL this is full-text search in web-search syntax ("quoted phrases", -exclusions, or),
ranked, over a document of each row that PostgreSQL stores and GIN-indexes (migration 0015). On
SQLite every word must occur somewhere in the record's searched fields, as any part of a word,
ignoring case: found through FTS5 trigram indexes (migration 0014), or by reading the fields for
words under three characters, which a trigram index cannot look up.

A claim's document holds its speaker's name and other spellings too, while the speaker is
published, as the claims list's text filter finds them (migration 0026): "Medinski" finds Vladimir
Medinsky's claims, and a query's words may be split between the claim's text and its speaker's
names. Database triggers write the names into the claim's own document, so that one index lookup
answers the whole query and its exclusions; joining the speaker's document at query time would read
every claim of every person a common word matches.
"""

import re
import sqlite3
from dataclasses import dataclass

import numpy as np
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import BigIntegerField, Expression, ExpressionWrapper, F, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.shortcuts import render

from sources.models import SourceArticle
from sources.record_base import public_condition
from talks.list_index import parsed_ids
from talks.models import Claim, Issue, Participant, Round

SEARCH_CONFIG = "english"
RESULTS_PER_KIND = 20
RANKED_MATCHES = 200  # PostgreSQL ranks at most this many matches of a kind, the most recently added
RECENT_KEYS = 20_000  # the newest records by key, searched first for those matches (see newest_keys)
FIRST_KEYS = 1_000  # SQLite: the first matches by key, read first for a page of them (see first_matches)


@dataclass(frozen=True)
class SearchKind:
    key: str
    title: str
    queryset: callable
    fields: tuple[str, ...]  # the record's own columns its document holds (SEARCH_TABLES)
    list_url_name: str | None = None
    # The document holds the published speaker's names too (SPEAKER_NAMES), after the record's own.
    speaker_names: bool = False
    # PostgreSQL's ts_rank weights of the document's parts, labelled D, C, B, A: None for its default.
    rank_weights: tuple[float, float, float, float] | None = None


# ts_rank's weights for a claim's document, labelled D, C, B, A: its text (A) counts 0.1, as
# unlabelled text does under the default weights, so that a claim found by its text ranks as it
# would without the names; its speaker's names (B) 0.04, to the text as PostgreSQL's default
# weights rank B to A.
CLAIM_RANK_WEIGHTS = (0.1, 0.2, 0.04, 0.1)

KINDS = (
    SearchKind(
        "rounds",
        "Rounds",
        lambda: Round.objects.published(),
        ("title", "summary", "outcome", "city", "venue"),
        "round_list",
    ),
    SearchKind(
        "claims",
        "Claims",
        lambda: Claim.objects.published().for_display(),
        ("text",),
        "claim_list",
        speaker_names=True,
        rank_weights=CLAIM_RANK_WEIGHTS,
    ),
    SearchKind(
        "articles",
        "Articles",
        lambda: SourceArticle.objects.published().select_related("outlet"),
        ("headline", "body"),
    ),
    SearchKind(
        "participants",
        "People",
        lambda: Participant.objects.published().select_related("party"),
        ("name", "aliases", "description"),
        "participant_list",
    ),
    SearchKind("issues", "Issues", lambda: Issue.objects.published(), ("name", "description")),
)


# The tables searched and their columns: each KIND's model and fields. SQLite's FTS5 indexes
# (migration 0014) and PostgreSQL's stored documents (migration 0015) cover exactly these, and a
# claim's speaker's names (SPEAKER_NAMES, migration 0026).
SEARCH_TABLES = {
    "talks_round": ("title", "summary", "outcome", "city", "venue"),
    "talks_claim": ("text",),
    "sources_sourcearticle": ("headline", "body"),
    "talks_participant": ("name", "aliases", "description"),
    "talks_issue": ("name", "description"),
}
TRIGRAM = 3  # the shortest word a trigram index can look up
DOCUMENT_COLUMN = "search_document"  # PostgreSQL's stored full-text document of each searched row

# A claim's document after its own text: its speaker's name and other spellings, while the speaker
# is published, else nothing (a draft's names must reveal nothing). On SQLite a column of the claims'
# FTS5 index, which then holds its own copy of the text (migration 0026); on PostgreSQL the same
# names in `search_document`, weighted below the text so that a claim that says the words ranks
# above one whose speaker is named by them.
SPEAKER_NAMES = "speaker_names"
CLAIM_TEXT_WEIGHT, SPEAKER_NAMES_WEIGHT = "A", "B"  # their labels in the document (CLAIM_RANK_WEIGHTS)
# The columns of each table's FTS5 index on SQLite: the searched columns, and a claim's speaker's.
SEARCH_INDEX_COLUMNS = {**SEARCH_TABLES, "talks_claim": (*SEARCH_TABLES["talks_claim"], SPEAKER_NAMES)}


def postgresql_document(columns, table: str = "") -> str:
    """The SQL of a row's full-text document on PostgreSQL: what SearchVector(*columns,
    config=SEARCH_CONFIG) computes, over the row's own columns or, given a table, its columns."""
    prefix = f'"{table}".' if table else ""
    joined = " || ' ' || ".join(f"COALESCE({prefix}\"{column}\", '')" for column in columns)
    return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, {joined})"


class StoredDocument(Expression):
    """A row's full-text document as PostgreSQL keeps it in `search_document` (migration 0015),
    parsed once when the row was written. Computing it while searching would parse the text of every
    row read, once to find the matches and again to rank them."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name(DOCUMENT_COLUMN)}", []


def sqlite_has_trigram_search() -> bool:
    """FTS5's trigram tokenizer came with SQLite 3.34 (2020)."""
    return sqlite3.sqlite_version_info >= (3, 34)


# PostgreSQL's upper-cased copies of the text columns the lists' text filter reads, each in a narrow
# table of its own (`<table>_folded`, migration 0021) with a trigram index: table: columns.
FOLDED_COPIES = {
    "talks_claim": ("text",),
    "talks_participant": ("name", "aliases"),
    "sources_sourcearticle": ("headline", "author"),
}


def trigram_lookup(table: str, columns, word: str) -> tuple[str, list] | None:
    """SQL (and its parameters) that lists the keys of the rows of `table` in whose `columns` the
    word occurs, as any part of a word in any case, from the table's trigram index alone: on
    SQLite its FTS5 index (words of three letters or more), on PostgreSQL its upper-cased copies
    (any word: a short one reads the copies' narrow table). None where no such index covers the
    columns."""
    if connection.vendor == "postgresql":
        if not columns or not set(columns) <= set(FOLDED_COPIES.get(table, ())):
            return None
        pattern = f"%{connection.ops.prep_for_like_query(word)}%"  # as Django escapes `icontains`
        conditions = " OR ".join(f'"{column}_folded" LIKE UPPER(%s)' for column in columns)
        return f'SELECT id FROM "{table}_folded" WHERE {conditions}', [pattern] * len(columns)
    query = fts5_query(table, columns, [word])
    if query is None:
        return None
    index = f"{table}_search"
    return f"SELECT rowid AS id FROM {index} WHERE {index} MATCH %s", [query]


def fts5_query(table: str, columns, words) -> str | None:
    """SQLite: the FTS5 query for the rows of `table` in whose `columns` every word occurs, as any
    part of a word in any case; None where its index cannot answer (a word under three letters,
    columns it does not hold, no FTS5 trigram index)."""
    if connection.vendor != "sqlite" or not sqlite_has_trigram_search():
        return None
    indexed = SEARCH_INDEX_COLUMNS.get(table, ())
    if (
        not words
        or any(len(word) < TRIGRAM for word in words)
        or not columns
        or not set(columns) <= set(indexed)
    ):
        return None
    query = " ".join('"' + word.replace('"', '""') + '"' for word in words)  # as they are, never FTS5 syntax
    if set(columns) != set(indexed):
        query = "{" + " ".join(columns) + "} : " + (query if len(words) == 1 else f"({query})")  # only there
    return query


def trigram_matches(table: str, columns, word: str) -> RawSQL | None:
    """The keys of the rows of `table` in whose `columns` the word occurs (see trigram_lookup), as
    a subquery, or None where the trigram index cannot answer."""
    lookup = trigram_lookup(table, columns, word)
    return None if lookup is None else RawSQL(*lookup)  # noqa: S611 (the word is a parameter)


def trigram_match_keys(table: str, columns, word: str) -> np.ndarray | None:
    """The same keys as trigram_matches, read from the index alone as one string of numbers (see
    talks/list_index.py), or None where the trigram index cannot answer."""
    lookup = trigram_lookup(table, columns, word)
    if lookup is None:
        return None
    sql, params = lookup
    joined = "STRING_AGG(CAST(id AS text), ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT(id)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {joined} FROM ({sql}) AS matches", params)
        return parsed_ids(cursor.fetchone()[0])


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the archive", max_length=200, required=False, strip=True)


def matching(kind: SearchKind, text: str) -> tuple[QuerySet, bool]:
    """The records of a kind that match, best first, and whether only some matches were ranked."""
    queryset = kind.queryset()
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        vector = StoredDocument()
        # Ranking reads each match's document, and a word found across the archive can match a
        # large share of its records. So only the most recently added RANKED_MATCHES matches are
        # ranked, and the page says when there were more.
        matches = queryset.prefetch_related(None).annotate(search=vector).filter(search=query)
        keys = newest_keys(matches.values_list("pk", flat=True), RANKED_MATCHES + 1)
        ranked = (
            queryset.filter(pk__in=keys[:RANKED_MATCHES])
            .annotate(rank=SearchRank(vector, query, weights=kind.rank_weights and list(kind.rank_weights)))
            .order_by(F("rank").desc(), "pk")
        )
        return ranked, len(keys) > RANKED_MATCHES
    table = queryset.model._meta.db_table
    columns = kind.fields + ((SPEAKER_NAMES,) if kind.speaker_names else ())
    indexed = []  # the words the trigram index looks up, all in one query
    for word in words_of(text):
        if fts5_query(table, columns, [word]) is not None:
            indexed.append(word)
            continue
        condition = Q()
        for field in kind.fields:
            condition |= Q(**{f"{field}__icontains": word})
        if kind.speaker_names:
            names = Q(speaker__name__icontains=word) | Q(speaker__aliases__icontains=word)
            condition |= public_condition(Participant, "speaker__") & names
        queryset = queryset.filter(condition)
    if indexed:
        queryset = first_matches(queryset, f"{table}_search", fts5_query(table, columns, indexed))
    return queryset.order_by("pk"), False


def first_matches(queryset: QuerySet, index: str, query: str) -> QuerySet:
    """SQLite: the records of `queryset` among its FTS5 index's matches for `query`, or at least
    the first page of them in key order, the order SQLite shows.

    SQLite lists a subquery's keys in full before it reads any record, and a name many speakers
    share matches nearly every claim. The index hands out its matches in key order, and stops when
    asked, so the first FIRST_KEYS are read alone first: all the matches of most words, and, of a
    word most records hold, more than a page of results unless the query's other words are rare
    among them. Only then are all the index's matches listed."""
    matches = f"SELECT rowid FROM {index} WHERE {index} MATCH %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT GROUP_CONCAT(rowid) FROM ({matches} ORDER BY rowid LIMIT %s)", [query, FIRST_KEYS + 1]
        )
        keys = parsed_ids(cursor.fetchone()[0]).tolist()
    if len(keys) <= FIRST_KEYS:
        return queryset.filter(pk__in=keys)  # every match
    first = queryset.filter(pk__in=keys[:FIRST_KEYS])
    if first.order_by("pk")[RESULTS_PER_KIND : RESULTS_PER_KIND + 1].exists():
        return first
    return queryset.filter(pk__in=RawSQL(matches, [query]))  # noqa: S611 (the words are a parameter)


def newest_keys(matches: QuerySet, limit: int) -> list[int]:
    """The keys of the `limit` most recently added matches, newest first, in bounded time.

    Asked for them in one query, PostgreSQL walks the key index backward and checks each row until
    it has `limit`: quick for a common word, but a word that is nowhere reads every row, and the
    planner, which takes an unknown word for a fairly common one, cannot tell. So the walk stops at
    the newest RECENT_KEYS records; only if they hold too few matches are the older ones found
    through the document index (ordered by `pk + 0`, which the key index cannot serve), where a rare
    word costs little.
    """
    latest = matches.model._base_manager.order_by("-pk").values("pk")[:1]
    start = ExpressionWrapper(Subquery(latest) - RECENT_KEYS, output_field=BigIntegerField())
    keys = list(matches.filter(pk__gt=start).order_by("-pk")[:limit])
    if len(keys) < limit:
        older = matches.filter(pk__lte=start).order_by((F("pk") + 0).desc())
        keys += older[: limit - len(keys)]
    return keys


def words_of(text: str) -> list[str]:
    """The words of a query, without web-search operators, for the SQLite search and for marking."""
    return [word for word in re.findall(r"\w[\w'’-]*", text) if word.lower() not in {"or", "and"}]


def search(request):
    form = SearchForm(request.GET)
    groups, text = [], ""
    if form.is_valid() and form.cleaned_data["q"]:
        text = form.cleaned_data["q"]
        for kind in KINDS:
            results, partly_ranked = matching(kind, text)
            found = list(results[: RESULTS_PER_KIND + 1])
            groups.append(
                {
                    "kind": kind,
                    "results": found[:RESULTS_PER_KIND],
                    "more": len(found) > RESULTS_PER_KIND,
                    "partly_ranked": partly_ranked,
                }
            )
    context = {
        "form": form,
        "text": text,
        "groups": groups,
        "terms": words_of(text),
        "total": sum(len(group["results"]) for group in groups),
        "ranked_matches": RANKED_MATCHES,
    }
    return render(request, "talks/search.html", context, status=200 if form.is_valid() else 400)

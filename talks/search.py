"""Searching the whole archive: rounds, claims, articles, people (aliases too) and issues.

On PostgreSQL this is full-text search in web-search syntax ("quoted phrases", -exclusions, or),
ranked, over a document of each row that PostgreSQL stores and GIN-indexes (migration 0015). On
SQLite every word must occur somewhere in the record's searched fields, as any part of a word,
ignoring case: found through FTS5 trigram indexes (migration 0014), or by reading the fields for
words under three characters, which a trigram index cannot look up.
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
from talks.list_index import parsed_ids
from talks.models import Claim, Issue, Participant, Round

SEARCH_CONFIG = "english"
RESULTS_PER_KIND = 20
RANKED_MATCHES = 200  # PostgreSQL ranks at most this many matches of a kind, the most recently added
RECENT_KEYS = 20_000  # the newest records by key, searched first for those matches (see newest_keys)


@dataclass(frozen=True)
class SearchKind:
    key: str
    title: str
    queryset: callable
    fields: tuple[str, ...]  # also the expression of the PostgreSQL index, in this order
    list_url_name: str | None = None


KINDS = (
    SearchKind(
        "rounds",
        "Rounds",
        lambda: Round.objects.published(),
        ("title", "summary", "outcome", "city", "venue"),
        "round_list",
    ),
    SearchKind("claims", "Claims", lambda: Claim.objects.published().for_display(), ("text",), "claim_list"),
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
# (migration 0014) and PostgreSQL's stored documents (migration 0015) cover exactly these.
SEARCH_TABLES = {
    "talks_round": ("title", "summary", "outcome", "city", "venue"),
    "talks_claim": ("text",),
    "sources_sourcearticle": ("headline", "body"),
    "talks_participant": ("name", "aliases", "description"),
    "talks_issue": ("name", "description"),
}
TRIGRAM = 3  # the shortest word a trigram index can look up
DOCUMENT_COLUMN = "search_document"  # PostgreSQL's stored full-text document of each searched row


def postgresql_document(columns, table: str = "") -> str:
    """The SQL of a row's full-text document on PostgreSQL: what SearchVector(*columns,
    config=SEARCH_CONFIG) computes, over the row's own columns or, given a table, its columns."""
    prefix = f'"{table}".' if table else ""
    joined = " || ' ' || ".join(f"COALESCE({prefix}\"{column}\", '')" for column in columns)
    return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, {joined})"


class StoredDocument(Expression):
    """A row's full-text document as PostgreSQL keeps it in `search_document` (migration 0015),
    parsed once when the row was written. Computing it while searching parsed the text of every
    row read: 20 ms to find the newest 200 of the claims that say "prisoners", and as much again
    to rank them."""

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
    if connection.vendor != "sqlite" or not sqlite_has_trigram_search():
        return None
    indexed = SEARCH_TABLES.get(table, ())
    if len(word) < TRIGRAM or not columns or not set(columns) <= set(indexed):
        return None
    phrase = '"' + word.replace('"', '""') + '"'  # the word as it is, never FTS5 syntax
    if set(columns) != set(indexed):
        phrase = "{" + " ".join(columns) + "} : " + phrase  # only in these columns
    index = f"{table}_search"
    return f"SELECT rowid AS id FROM {index} WHERE {index} MATCH %s", [phrase]


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
        # Ranking reads each match's document, so a word found across the archive ("prisoners" in
        # thousands of claims) took 150 ms to rank. The most recently added RANKED_MATCHES matches
        # are ranked, and the page says when there were more.
        matches = queryset.prefetch_related(None).annotate(search=vector).filter(search=query)
        keys = newest_keys(matches.values_list("pk", flat=True), RANKED_MATCHES + 1)
        ranked = (
            queryset.filter(pk__in=keys[:RANKED_MATCHES])
            .annotate(rank=SearchRank(vector, query))
            .order_by(F("rank").desc(), "pk")
        )
        return ranked, len(keys) > RANKED_MATCHES
    for word in words_of(text):
        matches = trigram_matches(queryset.model._meta.db_table, kind.fields, word)
        if matches is not None:
            queryset = queryset.filter(pk__in=matches)
            continue
        condition = Q()
        for field in kind.fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset.order_by("pk"), False


def newest_keys(matches: QuerySet, limit: int) -> list[int]:
    """The keys of the `limit` most recently added matches, newest first, in bounded time.

    Asked for them in one query, PostgreSQL walks the key index backward and checks each row until
    it has `limit`: quick for a common word, but a word that is nowhere reads every row (130 ms
    for the claims at full size), and the planner, which takes an unknown word for a fairly common
    one, cannot tell. So the walk stops at the newest RECENT_KEYS records; only if they hold too few
    matches are the older ones found through the document index (ordered by `pk + 0`, which the
    key index cannot serve), where a rare word costs little.
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

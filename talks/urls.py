"""Public URLs. Their names and query parameters are a public interface: keep them stable."""

from django.urls import path

from talks import downloads, exports, feeds, lists, search, sharing, sitemaps, tracks, views
from talks.citing import FORMATS
from talks.dataset.tables import EXPORTS

urlpatterns = [
    # Before the detail pages, whose slugs would otherwise match "feed".
    path("rounds/feed/", feeds.RoundsFeed(), name="rounds_feed"),
    path("claims/feed/", feeds.ClaimsFeed(), name="claims_feed"),
    path("disagreements/feed/", feeds.DisagreementsFeed(), name="disagreements_feed"),
    path("", views.home, name="home"),
    path("about/", views.AboutView.as_view(), name="about"),
    path("search/", search.search, name="search"),
    path("tracks/", tracks.track_list, name="track_list"),
    path("tracks/timeline.json", tracks.timeline_json, name="timeline_json"),
    path("tracks/<slug:slug>/", tracks.track_detail, name="track_detail"),
    path("tracks/<slug:slug>/timeline.json", tracks.timeline_json, name="track_timeline_json"),
    path("rounds/", lists.RoundListView.as_view(), name="round_list"),
    path("rounds/<slug:slug>/", views.round_detail, name="round_detail"),
    path("issues/", lists.IssueListView.as_view(), name="issue_list"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue_detail"),
    path("participants/", lists.ParticipantListView.as_view(), name="participant_list"),
    path("participants/<slug:slug>/", views.participant_detail, name="participant_detail"),
    path("sources/", lists.SourceListView.as_view(), name="source_list"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("claims/", lists.ClaimListView.as_view(), name="claim_list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("disagreements/", lists.DisagreementListView.as_view(), name="disagreement_list"),
    path("disagreements/<slug:slug>/", views.disagreement_detail, name="disagreement_detail"),
    path("changes/", views.ChangeListView.as_view(), name="changes"),
    path("changes/feed/", feeds.ChangesFeed(), name="changes_feed"),
    path("issues/<slug:slug>/feed/", feeds.IssueClaimsFeed(), name="issue_feed"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<section>.xml", sitemaps.section, name="sitemap_section"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("downloads/", downloads.downloads, name="downloads"),
    path("downloads/parley-dataset.zip", downloads.dataset_download, name="dataset_download"),
    path("releases/", downloads.release_list, name="release_list"),
    path("releases/<str:version>/", downloads.release_detail, name="release_detail"),
    path("releases/<str:version>/<str:file_name>", downloads.release_file, name="release_download"),
]

# /rounds.csv, /rounds.json, /claims.csv, ...: each list's rows, for the same query parameters.
urlpatterns += [
    path(
        f"{export.name}.{fmt}",
        exports.download,
        {"name": export.name, "fmt": fmt},
        name=f"{export.name}_{fmt}",
    )
    for export in EXPORTS
    for fmt in ("csv", "json")
]

# A claim's card for other sites' pages, and the oEmbed answer that hands it out.
urlpatterns += [
    path("claims/<int:pk>/embed/", sharing.claim_embed, name="claim_embed"),
    path("oembed/", sharing.oembed, name="oembed"),
]

# /claims/12/cite.bib, /rounds/geneva/cite.json, ...: each public record's citation, as a file.
CITED = [
    ("round", "rounds/<slug:slug>/"),
    ("issue", "issues/<slug:slug>/"),
    ("participant", "participants/<slug:slug>/"),
    ("source", "sources/<int:pk>/"),
    ("claim", "claims/<int:pk>/"),
    ("disagreement", "disagreements/<slug:slug>/"),
]
urlpatterns += [
    path(f"{prefix}cite.{fmt}", sharing.cite_download, {"kind": kind, "fmt": fmt}, name=f"{kind}_cite_{fmt}")
    for kind, prefix in CITED
    for fmt in FORMATS
]

"""Public URLs. Their names and query parameters are a public interface: keep them stable."""

from django.urls import path

from talks import lists, search, views

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.AboutView.as_view(), name="about"),
    path("search/", search.search, name="search"),
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
]

"""The API's addresses, under /api/v1/ (config/urls.py). Their names and parameters are a public
interface, as the site's are: keep them stable; a change that breaks them is /api/v2/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from talks.api import archive, claims, releases
from talks.api.errors import not_found

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False  # JSON only, at one address a record
router.register("rounds", archive.RoundViewSet, basename="round")
router.register("claims", claims.ClaimViewSet, basename="claim")
router.register("citations", claims.CitationViewSet, basename="citation")
router.register("articles", archive.ArticleViewSet, basename="article")
router.register("people", archive.PersonViewSet, basename="person")
router.register("issues", archive.IssueViewSet, basename="issue")
router.register("disagreements", archive.DisagreementViewSet, basename="disagreement")
router.register("releases", releases.ReleaseViewSet, basename="release")
router.register("removals", releases.RemovalViewSet, basename="removal")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/docs.html"),
        name="docs",
    ),
    *router.urls,
    re_path(r"^.*$", not_found),
]

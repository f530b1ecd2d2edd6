"""A URL configuration with one broken page, to see what a server error looks like to a reader."""

from django.urls import include, path


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), path("", include("config.urls"))]

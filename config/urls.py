from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Parley editors"
admin.site.site_title = "Parley editors"
admin.site.index_title = "The archive"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("talks.urls")),
]

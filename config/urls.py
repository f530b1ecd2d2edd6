from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from talks.admin_views import deleted_records

admin.site.site_header = "Parley editors"
admin.site.site_title = "Parley editors"
admin.site.index_title = "The archive"
admin.site.index_template = "admin/parley_index.html"

urlpatterns = [
    path(f"{settings.ADMIN_URL}deleted/", admin.site.admin_view(deleted_records), name="deleted_records"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", include("talks.api.urls")),
    path("", include("talks.urls")),
]

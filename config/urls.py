from django.conf import settings
from django.contrib import admin
from django.urls import path

from talks import views

admin.site.site_header = "Parley editors"
admin.site.site_title = "Parley editors"
admin.site.index_title = "The archive"

urlpatterns = [
    path("", views.home, name="home"),
    path(settings.ADMIN_URL, admin.site.urls),
]

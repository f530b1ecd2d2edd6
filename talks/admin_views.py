"""Admin pages beyond the model pages."""

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from talks.roles import ARCHIVE_APPS

RECENT = 200


def label_of(entry, model) -> str:
    """A deleted record's name as it had it, or its kind and number when that name needs records
    deleted with it (a citation's claim)."""
    try:
        return str(entry.instance)
    except ObjectDoesNotExist:
        return f"{model._meta.verbose_name} #{entry.id}, deleted with a record it belonged to"


def deleted_records(request):
    """Records deleted from the archive, newest first, each linked to the history it can be restored from."""
    if not request.user.is_staff:
        raise PermissionDenied
    entries = []
    for model in apps.get_models():
        # Only the models whose history simple-history keeps, not the historical models themselves.
        if model._meta.app_label not in ARCHIVE_APPS or not hasattr(
            model._meta, "simple_history_manager_attribute"
        ):
            continue
        if not request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            continue
        deletions = list(model.history.filter(history_type="-").order_by("-history_date")[:RECENT])
        restored = set(
            model._default_manager.filter(pk__in=[entry.id for entry in deletions]).values_list(
                "pk", flat=True
            )
        )
        for entry in deletions:
            if entry.id in restored:
                continue
            entries.append(
                {
                    "when": entry.history_date,
                    "who": entry.history_user,
                    "type": model._meta.verbose_name,
                    "label": label_of(entry, model),
                    "history_url": reverse(
                        f"admin:{model._meta.app_label}_{model._meta.model_name}_history", args=[entry.id]
                    ),
                }
            )
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    context = {
        **admin.site.each_context(request),
        "title": "Recently deleted records",
        "entries": entries[:RECENT],
    }
    return TemplateResponse(request, "admin/deleted_records.html", context)

"""Helpers to post admin forms the way a browser does, inline formsets included."""


def inline_forms(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    """The management form and rows of one inline formset."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{field}": value for field, value in row.items()})
    return data


def round_form(**overrides) -> dict:
    data = {
        "title": "Geneva round",
        "slug": "geneva-round",
        "sequence": "3",
        "publication_status": "draft",
        "start_date": "2026-02-17",
        "end_date": "2026-02-18",
        "date_precision": "day",
        "dates_note": "",
        "city": "Geneva",
        "country": "Switzerland",
        "venue": "",
        "format": "trilateral",
        "status": "held",
        "summary": "",
        "outcome": "",
        **inline_forms("delegations", []),
    }
    data.update(overrides)
    return data


def article_form(**overrides) -> dict:
    data = {
        "headline": "Talks end without breakthrough",
        "outlet": "",
        "author": "",
        "language": "en",
        "publication_status": "draft",
        "url": "",
        "archive_url": "",
        "retrieved_on": "",
        "published_on": "",
        "published_on_precision": "",
        "published_on_note": "",
        "body": "",
        "notes": "",
        **inline_forms("citations", []),
    }
    data.update(overrides)
    return data


def claim_form(citations: list[dict], **overrides) -> dict:
    data = {
        "text": "The talks ended without a breakthrough.",
        "round": "",
        "party": "",
        "speaker": "",
        "kind": "outcome",
        "sourcing": "reported",
        "attribution": "",
        "occurrence": "",
        "date": "",
        "date_precision": "",
        "date_note": "",
        "publication_status": "draft",
        "notes": "",
        **inline_forms(
            "citations", [{"stance": "supports", "note": "", "editor_note": "", **row} for row in citations]
        ),
    }
    data.update(overrides)
    return data


def form_as_shown(response, **changes) -> dict:
    """The POST data of an admin change page as the browser would send it untouched, plus changes."""
    data = {}
    forms = [response.context["adminform"].form]
    inlines = list(response.context.get("inline_admin_formsets") or [])
    while inlines:
        formset = inlines.pop(0).formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms += formset.forms
        # Nested inlines (a round's delegations' seats) hang from each form of their parent formset.
        for form in formset.forms:
            inlines += getattr(form, "inlines", [])
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    data.update(changes)
    return data

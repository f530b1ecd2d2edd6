"""schema.org descriptions of public records, as JSON-LD: what the pages say, and nothing they do not."""

from sources.record_base import DatePrecision

EVENT_STATUS = {
    "announced": "https://schema.org/EventScheduled",
    "held": "https://schema.org/EventScheduled",
    "postponed": "https://schema.org/EventPostponed",
    "cancelled": "https://schema.org/EventCancelled",
}


def partial_date(date, precision):
    """An ISO 8601 date only as precise as known: 2026-02-17, or 2026-01 for a month."""
    if date is None:
        return None
    return f"{date:%Y-%m}" if precision == DatePrecision.MONTH else date.isoformat()


def without_empty(data: dict) -> dict:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def round_event(round_, delegations, url) -> dict:
    attendees = [
        without_empty(
            {
                "@type": "Person",
                "name": seat.participant.name,
                "jobTitle": seat.title,
                "affiliation": {"@type": "Organization", "name": delegation.party.name},
            }
        )
        for delegation in delegations
        for seat in delegation.public_memberships
    ]
    location = without_empty(
        {
            "@type": "Place",
            "name": round_.venue or round_.city,
            "address": without_empty(
                {"@type": "PostalAddress", "addressLocality": round_.city, "addressCountry": round_.country}
            ),
        }
    )
    return without_empty(
        {
            "@context": "https://schema.org",
            "@type": "Event",
            "name": round_.title,
            "url": url,
            "description": round_.summary,
            "startDate": partial_date(round_.start_date, round_.date_precision),
            "endDate": partial_date(round_.end_date, round_.date_precision),
            "eventStatus": EVENT_STATUS.get(round_.status),
            "location": location if len(location) > 1 else None,
            "attendee": attendees,
        }
    )


def news_article(article, url) -> dict:
    precise = article.published_on_precision == DatePrecision.DAY
    return without_empty(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.headline,
            "url": article.url or url,
            "mainEntityOfPage": url,
            "inLanguage": article.language,
            "author": {"@type": "Person", "name": article.author} if article.author else None,
            "publisher": {"@type": "Organization", "name": article.outlet.name} if article.outlet else None,
            # An inferred date is not claimed as the publication date.
            "datePublished": partial_date(article.published_on, article.published_on_precision)
            if precise
            else None,
            "archivedAt": article.archive_url,
        }
    )

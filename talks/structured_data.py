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


def claim(claim_, articles, url, absolute) -> dict:
    """A claim as schema.org's `Claim`: its text after its attribution, as its card reads; its
    published speaker as `author`; each published article citing it (`articles`) as an
    `appearance`, and the earliest one whose day is known as `firstAppearance`. `absolute` makes a
    path a full URL."""
    text = f"{claim_.attribution_label}: {claim_.text}" if claim_.attribution_label else claim_.text
    speaker = claim_.speaker if claim_.speaker and claim_.speaker.is_published else None
    appearances = [news_article(article, absolute(article.get_absolute_url())) for article in articles]
    dated = [
        (article.published_on, appearance)
        for article, appearance in zip(articles, appearances, strict=True)
        if article.published_on and article.published_on_precision == DatePrecision.DAY
    ]
    first = min(dated, key=lambda pair: pair[0])[1] if dated else None
    author = None
    if speaker is not None:
        affiliation = {"@type": "Organization", "name": claim_.party.name} if claim_.party else None
        author = without_empty({"@type": "Person", "name": speaker.name, "affiliation": affiliation})
    return without_empty(
        {
            "@context": "https://schema.org",
            "@type": "Claim",
            "url": url,
            "text": text,
            "author": author,
            "appearance": [without_context(appearance) for appearance in appearances],
            "firstAppearance": without_context(first) if first else None,
        }
    )


def without_context(data: dict) -> dict:
    """A description nested in another, which carries the `@context`."""
    return {key: value for key, value in data.items() if key != "@context"}

"""One canonical form for article URLs, so the same article cannot be entered twice."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that track a click rather than identify a page.
TRACKING_PARAMETERS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_ga",
    "ref_src",
}


def is_tracking_parameter(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def normalize_url(url: str) -> str:
    """Lower-case the scheme and host, drop the fragment, the default port and tracking parameters.

    The path and the remaining query are kept as they are: on many sites they are case-sensitive.
    """
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme.lower() == "http" and parts.port == 80)
        or (parts.scheme.lower() == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    if parts.username:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        host = f"{credentials}@{host}"
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not is_tracking_parameter(name)
        ]
    )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))

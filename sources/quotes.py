"""Checking that a citation's quote really occurs in the article it cites."""

import re

# Typographic variants an editor's copy-and-paste may turn into, or out of, the plain marks.
QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark, also the apostrophe
        "\u201a": "'",  # single low-9
        "\u201b": "'",  # single high-reversed-9
        "\u2032": "'",  # prime
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',  # double low-9
        "\u201f": '"',  # double high-reversed-9
        "\u2033": '"',  # double prime
    }
)
WHITESPACE = re.compile(r"\s+")


def comparable(text: str) -> str:
    """The text with every run of whitespace as one space and curly quote marks made straight."""
    return WHITESPACE.sub(" ", text.translate(QUOTE_MARKS)).strip()


def quote_occurs_in(quote: str, body: str) -> bool:
    """True when the quote appears in the body, ignoring only whitespace and quote-mark style."""
    needle = comparable(quote)
    return bool(needle) and needle in comparable(body)

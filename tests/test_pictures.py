"""The SVG pictures (talks/pictures.py): what each mark says, where it is drawn and where it leads."""

import datetime
import xml.etree.ElementTree as ElementTree

from talks.pictures import WIDTH, Bar, TimeAxis, TimelineRound, bar_chart, drawn_span, timeline

SVG = "{http://www.w3.org/2000/svg}"
JANUARY = TimelineRound(
    title="Abu Dhabi talks, January 2026",
    url="/rounds/abu-dhabi-2026-january/",
    start=datetime.date(2026, 1, 1),
    end=None,
    precision="month",
    dates_label="January 2026",
)
GENEVA = TimelineRound(
    title="Geneva talks, February 2026",
    url="/rounds/geneva-2026-february/",
    start=datetime.date(2026, 2, 17),
    end=datetime.date(2026, 2, 18),
    precision="day",
    dates_label="17–18 February 2026",
)
ABOUT = TimelineRound(
    title="Talks in March",
    url="/rounds/march/",
    start=datetime.date(2026, 3, 10),
    end=None,
    precision="approximate",
    dates_label="about 10 March 2026",
)


def parsed(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def marks(svg: ElementTree.Element) -> list[tuple[ElementTree.Element, ElementTree.Element]]:
    return [(link, link.find(f"{SVG}rect")) for link in svg.iter(f"{SVG}a")]


def drawn(rows):
    return parsed(timeline(rows, "Timeline of the rounds", "Three rounds.", "t"))


def test_a_round_known_only_to_the_month_is_drawn_across_the_whole_month():
    rows = [JANUARY, GENEVA, ABOUT]
    axis = TimeAxis([drawn_span(row) for row in rows])
    _, rect = marks(drawn(rows))[0]
    left, width = float(rect.get("x")), float(rect.get("width"))
    assert left == axis.x(datetime.date(2026, 1, 1))
    assert round(left + width, 1) == axis.x(datetime.date(2026, 2, 1))
    assert rect.get("fill") == "#fff" and rect.get("stroke")  # outlined, not a filled day


def test_a_round_known_to_the_day_is_a_filled_mark_over_its_days_and_an_approximate_one_is_dashed():
    rows = [JANUARY, GENEVA, ABOUT]
    axis = TimeAxis([drawn_span(row) for row in rows])
    (_, january), (_, geneva), (_, about) = marks(drawn(rows))
    assert float(geneva.get("x")) == axis.x(datetime.date(2026, 2, 17))
    assert geneva.get("fill") != "#fff" and geneva.get("stroke-dasharray") is None
    assert about.get("stroke-dasharray") and january.get("stroke-dasharray") is None
    # A month is drawn wider than two days, and each day's mark stays visible.
    assert float(january.get("width")) > float(geneva.get("width")) >= 4


def test_every_mark_links_to_its_round_and_is_named_by_its_title_and_dates():
    svg = drawn([JANUARY, GENEVA])
    links = marks(svg)
    assert [link.get("href") for link, _ in links] == [JANUARY.url, GENEVA.url]
    assert [link.find(f"{SVG}title").text for link, _ in links] == [
        "Abu Dhabi talks, January 2026, January 2026",
        "Geneva talks, February 2026, 17–18 February 2026",
    ]


def test_the_timeline_has_a_title_and_a_description_for_screen_readers_and_an_axis():
    svg = drawn([JANUARY, GENEVA])
    assert svg.get("aria-labelledby") == "t-title" and svg.get("aria-describedby") == "t-desc"
    assert svg.find(f"{SVG}title").text == "Timeline of the rounds"
    assert svg.find(f"{SVG}desc").text == "Three rounds."
    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert "Feb" in labels and "Jan 2026" in labels
    assert svg.get("viewBox").startswith(f"0 0 {WIDTH} ")


def test_a_long_span_is_labelled_by_years():
    istanbul = TimelineRound(
        "Istanbul", "/rounds/istanbul/", datetime.date(2022, 3, 1), None, "month", "March 2022"
    )
    labels = [text.text for text in drawn([istanbul, GENEVA]).iter(f"{SVG}text")]
    assert {"2023", "2024", "2025", "2026"} <= set(labels)


def test_text_from_the_records_is_escaped():
    hostile = TimelineRound(
        '<script>alert("x")</script> & talks',
        "/rounds/x/?a=1&b=2",
        GENEVA.start,
        None,
        "day",
        "17 February 2026",
    )
    markup = str(timeline([hostile], "T <b>", "D", "t"))
    assert "<script>" not in markup and "<b>" not in markup
    assert parsed(markup).find(f"{SVG}a").get("href") == "/rounds/x/?a=1&b=2"


def test_a_long_title_is_cut_in_the_picture_and_whole_in_its_mark_title():
    long = TimelineRound("Talks " * 30, "/rounds/long/", GENEVA.start, None, "day", "17 February 2026")
    link, _ = marks(drawn([long]))[0]
    label = link.find(f"{SVG}text").text
    assert label.endswith("…") and len(label) < 60
    assert link.find(f"{SVG}title").text.startswith("Talks " * 30)


def test_nothing_is_drawn_without_dated_rounds():
    undated = TimelineRound("Announced", "/rounds/a/", None, None, "day", "unknown")
    assert str(timeline([undated], "T", "D", "t")) == ""
    assert str(bar_chart([], "T", "D", "b", "claims")) == ""


def test_bars_are_as_long_as_their_counts_and_each_links_to_what_it_counts():
    bars = [Bar("Territory", 20, "/claims/?issue=territory"), Bar("Sanctions", 5, "/claims/?issue=sanctions")]
    svg = parsed(bar_chart(bars, "Claims per issue", "Two issues.", "c", "claims"))
    (territory, long), (sanctions, short) = marks(svg)
    assert abs(float(long.get("width")) - 4 * float(short.get("width"))) < 0.5  # rounded to tenths
    assert float(long.get("x")) + float(long.get("width")) <= WIDTH
    assert [territory.get("href"), sanctions.get("href")] == [
        "/claims/?issue=territory",
        "/claims/?issue=sanctions",
    ]
    assert territory.find(f"{SVG}title").text == "Territory: 20 claims"
    assert [text.text for text in territory.iter(f"{SVG}text")] == ["Territory", "20"]


def test_a_bar_of_nothing_draws_no_bar_but_says_zero():
    svg = parsed(bar_chart([Bar("Sanctions", 0, "/claims/?issue=sanctions")], "T", "D", "c", "claims"))
    ((link, rect),) = marks(svg)
    assert rect.get("width") == "0" and [text.text for text in link.iter(f"{SVG}text")][-1] == "0"

"""The archive's pictures, drawn as SVG on the server: a timeline of rounds and bar charts of counts.

Drawn here rather than by a chart library: the pictures need exact control of what a reader's
screen reader and a printer get (a title, a description, a link on every mark, no script, no
inline style under the site's CSP), and of how a date known only to the month is drawn. Each is
given plain rows, so the views decide what is counted and this module only how it looks; every
picture is shown beside a list or table of the same rows.

Coordinates are in the SVG's own units: the picture scales to its box, and its text is sized for a
box about as wide as a phone: WIDTH units are drawn across 330 to 480 pixels (static/css/parley.css)."""

import datetime
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sources.record_base import DatePrecision

WIDTH = 360
MARGIN = 8
FONT = 13  # labels
SMALL = 11  # dates, values and the axis
ROW = 46  # a timeline row: its label, then its mark
BAR_ROW = 40  # a bar chart row: its label, then its bar
MARK_HEIGHT = 12
MIN_MARK = 4  # a one-day round stays visible on an axis of years
AXIS = 30  # room below the rows for the axis and its labels
INK = "#0b5394"  # the link colour of static/css/parley.css: 7.6:1 on white
RULE = "#6b6b6b"  # axis and ticks: 5.3:1 on white, enough for a graphical object
TEXT = "#1a1a1a"


def fitted(text: str, size: int, room: float) -> str:
    """The text, cut with an ellipsis to fit `room` units at `size` (a generous average glyph
    width, as the reader's system font is not known here); the whole text is in the mark's title."""
    fits = max(4, int(room / (size * 0.56)))
    return text if len(text) <= fits else text[: fits - 1].rstrip() + "…"


def attributes(**values) -> str:
    return " ".join(f'{name.replace("_", "-")}="{escape(value)}"' for name, value in values.items())


def hit_area(top: float, height: float) -> str:
    """The whole row, unpainted, as its link's target: a finger need not find a thin mark."""
    return f"<rect {attributes(x=0, y=top, width=WIDTH, height=height, fill='none', pointer_events='all')}/>"


@dataclass(frozen=True)
class TimelineRound:
    title: str
    url: str
    start: datetime.date
    end: datetime.date | None  # the last day, as the record gives it; None for one day
    precision: str  # DatePrecision
    dates_label: str  # the dates as precisely as they are known, as the round's page gives them


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def drawn_span(round_: TimelineRound) -> tuple[datetime.date, datetime.date]:
    """The days a round's mark covers, from its first day to the day after its last. A round known
    only to the month covers its whole month (or months): drawing it on the 1st would claim a day
    the sources do not give."""
    last = round_.end or round_.start
    if round_.precision == DatePrecision.MONTH:
        return month_start(round_.start), next_month(last)
    return round_.start, last + datetime.timedelta(days=1)


class TimeAxis:
    """Days to x, over the rounds' spans with a little room either side."""

    def __init__(self, spans: list[tuple[datetime.date, datetime.date]]):
        first, last = min(start for start, _ in spans), max(end for _, end in spans)
        room = max(datetime.timedelta(days=15), (last - first) / 20)
        self.first, self.last = first - room, last + room
        self.left, self.right = MARGIN, WIDTH - MARGIN

    def x(self, day: datetime.date) -> float:
        share = (day - self.first) / (self.last - self.first)
        return round(self.left + share * (self.right - self.left), 1)

    def ticks(self) -> list[tuple[datetime.date, str]]:
        """Years, or for a short span the months (every third when they would crowd)."""
        if (self.last - self.first).days > 2 * 365:
            years = range(self.first.year + 1, self.last.year + 1)
            step = max(1, len(years) // 8)
            return [(datetime.date(year, 1, 1), str(year)) for year in years[::step]]
        months, day = [], next_month(self.first)
        while day <= self.last:
            months.append(day)
            day = next_month(day)
        step = 1 if len(months) <= 8 else 3
        return [
            (day, f"{day:%b %Y}" if day.month == 1 or i == 0 else f"{day:%b}")
            for i, day in enumerate(months[::step])
        ]


def timeline(rounds: list[TimelineRound], title: str, description: str, id_prefix: str) -> SafeString:
    """Rounds on a time axis, one row each in the order given, each mark linking to its round.

    A round known to the day is a filled mark over its days; one known only to the month, an
    outlined span over the month; an approximate one, a dashed outline. The legend beside the
    picture (templates/includes/timeline.html) says so in words."""
    rounds = [round_ for round_ in rounds if round_.start is not None]
    if not rounds:
        return mark_safe("")
    spans = [drawn_span(round_) for round_ in rounds]
    axis = TimeAxis(spans)
    height = len(rounds) * ROW + AXIS
    parts = [
        f'<svg class="picture timeline-picture" {attributes(viewBox=f"0 0 {WIDTH} {height}")} '
        f'role="group" aria-labelledby="{id_prefix}-title" aria-describedby="{id_prefix}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
    ]
    for row, (round_, (start, end)) in enumerate(zip(rounds, spans, strict=True)):
        top = row * ROW
        left = axis.x(start)
        width = max(MIN_MARK, axis.x(end) - left)
        left = min(left, WIDTH - MARGIN - width)
        mark_top = top + 24
        if round_.precision == DatePrecision.DAY:
            shape = attributes(fill=INK)
        elif round_.precision == DatePrecision.MONTH:
            shape = attributes(fill="#fff", stroke=INK, stroke_width=2)
        else:
            shape = attributes(fill="#fff", stroke=INK, stroke_width=2, stroke_dasharray="3 2")
        dates_x = left + width + 6
        dates_anchor = "start"
        dates_room = WIDTH - MARGIN - dates_x
        if dates_room < 120:  # no room after the mark: the dates go before it
            dates_x, dates_anchor, dates_room = left - 6, "end", left - 6 - MARGIN
        parts += [
            f'<a class="timeline-round" {attributes(href=round_.url)}>',
            f"<title>{escape(round_.title)}, {escape(round_.dates_label)}</title>",
            f"<text {attributes(x=MARGIN, y=top + 16, font_size=FONT, fill=TEXT)}>"
            f"{escape(fitted(round_.title, FONT, WIDTH - 2 * MARGIN))}</text>",
            f"<rect {attributes(x=left, y=mark_top, width=round(width, 1), height=MARK_HEIGHT)} {shape}/>",
            f"<text {attributes(x=round(dates_x, 1), y=mark_top + 10, font_size=SMALL, fill=TEXT)}"
            f' text-anchor="{dates_anchor}">{escape(fitted(round_.dates_label, SMALL, dates_room))}</text>',
            hit_area(top, ROW),
            "</a>",
        ]
    base = len(rounds) * ROW + 4
    parts.append(
        f"<line {attributes(x1=MARGIN, y1=base, x2=WIDTH - MARGIN, y2=base, stroke=RULE, stroke_width=1)}/>"
    )
    for day, label in axis.ticks():
        x = axis.x(day)
        parts += [
            f"<line {attributes(x1=x, y1=base, x2=x, y2=base + 5, stroke=RULE, stroke_width=1)}/>",
            f'<text {attributes(x=x, y=base + 18, font_size=SMALL, fill=TEXT)} text-anchor="middle">'
            f"{escape(label)}</text>",
        ]
    parts.append("</svg>")
    return mark_safe("".join(parts))


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    url: str  # the list of exactly the records counted


def bar_chart(bars: list[Bar], title: str, description: str, id_prefix: str, unit: str) -> SafeString:
    """Horizontal bars in the order given, each labelled, valued and linking to what it counts.
    `unit` names what is counted, for each bar's title ("claims")."""
    if not bars:
        return mark_safe("")
    largest = max(bar.count for bar in bars) or 1
    value_room = 7 * SMALL * 0.56 + 6  # up to seven digits after the longest bar
    scale = (WIDTH - 2 * MARGIN - value_room) / largest
    height = len(bars) * BAR_ROW + 4
    parts = [
        f'<svg class="picture bar-chart" {attributes(viewBox=f"0 0 {WIDTH} {height}")} '
        f'role="group" aria-labelledby="{id_prefix}-title" aria-describedby="{id_prefix}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
    ]
    for row, bar in enumerate(bars):
        top = row * BAR_ROW
        width = round(bar.count * scale, 1)
        drawn = max(width, 1) if bar.count else 0
        parts += [
            f'<a class="chart-bar" {attributes(href=bar.url)}>',
            f"<title>{escape(bar.label)}: {bar.count} {escape(unit)}</title>",
            f"<text {attributes(x=MARGIN, y=top + 14, font_size=FONT, fill=TEXT)}>"
            f"{escape(fitted(bar.label, FONT, WIDTH - 2 * MARGIN))}</text>",
            f"<rect {attributes(x=MARGIN, y=top + 20, width=drawn, height=MARK_HEIGHT, fill=INK)}/>",
            f"<text {attributes(x=MARGIN + drawn + 6, y=top + 30, font_size=SMALL, fill=TEXT)}>"
            f"{bar.count}</text>",
            hit_area(top, BAR_ROW),
            "</a>",
        ]
    parts.append("</svg>")
    return mark_safe("".join(parts))

"""Track pages, the timelines of rounds on them and on the home page, and their TimelineJS JSON."""

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from talks.models import Claim, Round, Track
from tests.builders import PUBLISHED, make_claim, make_public_claim, make_round, make_track

TRILATERAL = "us-brokered-trilateral-talks-2026"
pytestmark = pytest.mark.django_db
CHART_ROW = re.compile(r'<th scope="row"><a href="([^"]+)">[^<]*</a></th><td class="number">(\d+)</td>')


def svg_links(html: str) -> list[str]:
    return [
        unescape(href)
        for svg in re.findall(r"<svg class=\"picture.*?</svg>", html, re.S)
        for href in re.findall(r'<a class="[^"]+" href="([^"]+)"', svg)
    ]


@pytest.mark.usefixtures("seeded_module")
class TestOverTheSeed:
    def test_a_track_page_draws_each_published_round_on_its_timeline_in_order(self, client):
        response = client.get(reverse("track_detail", args=[TRILATERAL]))
        assert response.status_code == 200
        rounds = Round.objects.published().filter(track__slug=TRILATERAL).order_by("sequence")
        timeline = re.search(
            r'<svg class="picture timeline-picture".*?</svg>', response.content.decode(), re.S
        )
        hrefs = re.findall(r'<a class="timeline-round" href="([^"]+)"', timeline.group())
        assert hrefs == [round_.get_absolute_url() for round_ in rounds]
        assert "Timeline of the rounds of US-brokered trilateral talks, 2026" in timeline.group()

    def test_every_number_of_a_track_page_chart_is_the_count_of_the_list_it_links_to(self, client):
        for track in Track.objects.all():
            html = client.get(reverse("track_detail", args=[track.slug])).content.decode()
            rows = CHART_ROW.findall(html)
            assert rows, track
            for href, number in rows:
                assert client.get(unescape(href)).context["result_count"] == int(number), href
            # The bars link where their table rows do.
            charts = [href for href in svg_links(html) if href.startswith(reverse("claim_list"))]
            assert charts == [unescape(href) for href, _ in rows]

    def test_the_claims_per_issue_chart_counts_sub_issues_and_each_claim_once_per_issue(self, client):
        html = client.get(reverse("track_detail", args=[TRILATERAL])).content.decode()
        territory = dict(CHART_ROW.findall(html))[f"/claims/?track={TRILATERAL}&amp;issue=territory"]
        listed = client.get(f"/claims/?track={TRILATERAL}&issue=territory").context["result_count"]
        donbas = client.get(f"/claims/?track={TRILATERAL}&issue=donbas").context["result_count"]
        assert int(territory) == listed and donbas > 0

    def test_the_home_page_draws_each_track_with_links_to_its_latest_rounds(self, client):
        html = client.get(reverse("home")).content.decode()
        for track in Track.objects.all():
            assert f'href="{track.get_absolute_url()}"' in html
        links = svg_links(html)
        assert set(links) == {round_.get_absolute_url() for round_ in Round.objects.published()}
        assert f'href="{reverse("disagreement_list")}"' in html

    def test_the_timeline_json_is_a_timelinejs_timeline_of_the_published_rounds(self, client):
        data = json.loads(client.get(reverse("track_timeline_json", args=[TRILATERAL])).content)
        events = {event["unique_id"]: event for event in data["events"]}
        assert set(events) == set(
            Round.objects.published().filter(track__slug=TRILATERAL).values_list("slug", flat=True)
        )
        geneva, january = events["geneva-2026-february"], events["abu-dhabi-2026-january"]
        assert geneva["start_date"] == {"year": 2026, "month": 2, "day": 17}
        assert geneva["end_date"] == {"year": 2026, "month": 2, "day": 18}
        # Known only to the month: no day is given, which TimelineJS shows as the month.
        assert january["start_date"] == {"year": 2026, "month": 1} and "end_date" not in january
        assert january["display_date"] == "January 2026"
        assert 'href="http://testserver/rounds/abu-dhabi-2026-january/"' in january["text"]["text"]
        assert data["title"]["text"]["headline"] == "US-brokered trilateral talks, 2026"
        every = json.loads(client.get(reverse("timeline_json")).content)
        assert len(every["events"]) == Round.objects.published().count()

    def test_the_track_list_names_each_track_with_its_published_rounds(self, client):
        response = client.get(reverse("track_list"))
        tracks = {track.slug: track.round_count for track in response.context["tracks"]}
        assert tracks[TRILATERAL] == Round.objects.published().filter(track__slug=TRILATERAL).count()
        assert 'href="/tracks/us-brokered-trilateral-talks-2026/"' in response.content.decode()


def test_a_track_of_draft_rounds_only_is_not_public(client):
    track = make_track()
    make_round(track=track)  # a draft
    assert client.get(reverse("track_detail", args=[track.slug])).status_code == 404
    assert client.get(reverse("track_timeline_json", args=[track.slug])).status_code == 404
    assert track.slug not in client.get(reverse("track_list")).content.decode()
    assert client.get(reverse("track_detail", args=["no-such-track"])).status_code == 404


def test_drafts_are_neither_drawn_nor_counted(client):
    track = make_track()
    shown = make_round(track=track, title="Published round", publication_status=PUBLISHED)
    hidden = make_round(track=track, title="Draft round")
    make_public_claim(round=shown)
    make_public_claim(round=shown)
    withdrawn = make_public_claim(round=shown)
    Claim.objects.filter(pk=withdrawn.pk).update(publication_status="withdrawn")
    make_claim(round=shown, text="A draft claim")
    response = client.get(reverse("track_detail", args=[track.slug]))
    html = response.content.decode()
    assert hidden.title not in html and hidden.slug not in html
    assert [bar.count for bar in response.context["claims_per_round"]] == [2]
    events = json.loads(client.get(reverse("track_timeline_json", args=[track.slug])).content)["events"]
    assert [event["unique_id"] for event in events] == [shown.slug]
    assert hidden.slug not in client.get(reverse("home")).content.decode()


def test_a_claims_list_filtered_by_track_lists_the_claims_of_its_rounds(client):
    track = make_track()
    ours = make_public_claim(round=make_round(track=track, publication_status=PUBLISHED))
    make_public_claim(round=make_round(publication_status=PUBLISHED))
    response = client.get(reverse("claim_list") + f"?track={track.slug}")
    assert [claim.pk for claim in response.context["object_list"]] == [ours.pk]
    bad = client.get(reverse("claim_list") + "?track=no-such-track")
    assert bad.status_code == 200 and bad.context["result_count"] == 0 and not bad.context["filters_valid"]

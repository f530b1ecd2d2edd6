import pytest
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import MAX_CLAIM_TEXT, Citation, Claim, Delegation, Membership, Round
from tests.admin_forms import article_form, claim_form, form_as_shown, inline_forms, round_form
from tests.builders import make_article, make_citation, make_participant, make_party, make_round, make_track

pytestmark = pytest.mark.django_db

ARTICLE_BODY = (
    "Ukraine’s chief negotiator said the talks were “difficult”.\n\n"
    "Russia’s delegation was led by Vladimir Medinsky,\nan aide to the president."
)


def field_errors(response, field, formset_index=None):
    """The messages shown beside a field of the main form, or of an inline row."""
    if formset_index is None:
        return response.context["adminform"].form.errors.get(field, [])
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "citations"
    )
    return formset.forms[formset_index].errors.get(field, [])


def test_the_admin_lives_at_the_configured_url(settings):
    assert reverse("admin:index") == f"/{settings.ADMIN_URL}"


def test_a_round_that_ends_before_it_starts_is_refused_beside_the_end_date(admin_client):
    data = round_form(track=make_track().pk, start_date="2026-02-18", end_date="2026-02-17")
    response = admin_client.post(reverse("admin:talks_round_add"), data)
    assert response.status_code == 200
    assert field_errors(response, "end_date") == [
        "The end date is before the start date: a round cannot end before it starts."
    ]
    assert not Round.objects.exists()


def test_a_duplicate_article_url_is_refused_with_a_link_to_the_article_already_recorded(admin_client):
    existing = make_article(headline="Geneva talks end", url="https://news.example/geneva")
    data = article_form(url="https://NEWS.example/geneva?utm_source=newsletter#top")
    response = admin_client.post(reverse("admin:sources_sourcearticle_add"), data)
    assert response.status_code == 200
    [message] = field_errors(response, "url")
    link = reverse("admin:sources_sourcearticle_change", args=[existing.pk])
    assert message.startswith(f'This URL is already recorded for <a href="{link}">Geneva talks end</a>.')
    assert f'<a href="{link}">Geneva talks end</a>' in response.content.decode()
    assert SourceArticle.objects.count() == 1


def test_an_article_keeps_its_own_url_when_edited(admin_client):
    article = make_article(url="https://news.example/geneva")
    data = article_form(headline="Corrected headline", url="https://news.example/geneva")
    response = admin_client.post(reverse("admin:sources_sourcearticle_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.headline == "Corrected headline"


def test_a_claim_text_past_its_limit_is_refused_beside_the_text(admin_client):
    text = "The talks went on. " * 200
    response = admin_client.post(reverse("admin:talks_claim_add"), claim_form([], text=text))
    assert response.status_code == 200
    assert field_errors(response, "text") == [
        f"Ensure this value has at most {MAX_CLAIM_TEXT} characters (it has {len(text.strip())})."
    ]
    assert not Claim.objects.exists()


def test_a_quote_not_in_the_articles_stored_text_is_refused_beside_the_quote(admin_client):
    article = make_article(body=ARTICLE_BODY)
    data = claim_form([{"article": article.pk, "quote": "the talks were “easy”"}])
    response = admin_client.post(reverse("admin:talks_claim_add"), data)
    assert response.status_code == 200
    assert field_errors(response, "quote", formset_index=0) == [
        "This quote does not occur in the article's stored text. "
        "Copy it exactly; only whitespace and the style of quote marks may differ."
    ]
    assert not Claim.objects.exists()


def test_a_quote_differing_only_in_whitespace_and_quote_marks_is_accepted(admin_client):
    article = make_article(body=ARTICLE_BODY)
    quote = "Russia's delegation was led by Vladimir Medinsky, an aide"
    response = admin_client.post(
        reverse("admin:talks_claim_add"), claim_form([{"article": article.pk, "quote": quote}])
    )
    assert response.status_code == 302
    assert Citation.objects.get().quote == quote


def test_a_quote_is_not_checked_when_the_article_has_no_stored_text(admin_client):
    article = make_article(body="")
    response = admin_client.post(
        reverse("admin:talks_claim_add"),
        claim_form([{"article": article.pk, "quote": "anything the editor read"}]),
    )
    assert response.status_code == 302
    assert Citation.objects.count() == 1


def test_an_articles_page_lists_the_claims_that_cite_it_each_linked(admin_client):
    citation = make_citation(quote="talks were difficult")
    make_citation(quote="an unrelated article's quote")
    response = admin_client.get(reverse("admin:sources_sourcearticle_change", args=[citation.article.pk]))
    page = response.content.decode()
    claim_link = reverse("admin:talks_claim_change", args=[citation.claim.pk])
    assert "Claims citing this article" in page
    assert f'<a href="{claim_link}">{citation.claim.text}</a>' in page
    assert "talks were difficult" in page
    assert "an unrelated article&#x27;s quote" not in page


def test_a_claims_citations_choose_the_article_by_search_and_can_add_a_new_one_in_a_popup(admin_client):
    page = admin_client.get(reverse("admin:talks_claim_add")).content.decode()
    assert 'id="id_citations-0-article"' in page
    assert "admin-autocomplete" in page
    assert 'id="add_id_citations-0-article"' in page
    assert reverse("admin:sources_sourcearticle_add") + "?_to_field=id&amp;_popup=1" in page


def test_an_editor_records_a_round_its_delegations_and_members_an_article_and_a_cited_claim(admin_client):
    track = make_track(name="US-brokered trilateral talks, 2026")
    russia, united_states = make_party(name="Russia"), make_party(name="United States")
    medinsky = make_participant(name="Vladimir Medinsky", aliases="Medinski")

    # The round, its delegations and their seats, entered in the round's own form.
    response = admin_client.post(
        reverse("admin:talks_round_add"),
        round_form(
            track=track.pk,
            **inline_forms(
                "delegations",
                [
                    {"party": russia.pk, "role": "negotiating", "notes": ""},
                    {"party": united_states.pk, "role": "mediator", "notes": ""},
                ],
            ),
            **inline_forms(
                "delegations-0-memberships",
                [{"participant": medinsky.pk, "role": "head", "title": "Presidential aide"}],
            ),
            **inline_forms("delegations-1-memberships", []),
        ),
    )
    assert response.status_code == 302
    geneva = Round.objects.get(slug="geneva-round")
    assert {d.party.name: d.role for d in geneva.delegations.all()} == {
        "Russia": "negotiating",
        "United States": "mediator",
    }
    russian_delegation = Delegation.objects.get(round=geneva, party=russia)
    seat = Membership.objects.get()
    assert (seat.participant, seat.delegation, seat.role) == (medinsky, russian_delegation, "head")

    response = admin_client.post(
        reverse("admin:sources_sourcearticle_add"),
        article_form(body=ARTICLE_BODY, url="https://news.example/geneva"),
    )
    assert response.status_code == 302
    article = SourceArticle.objects.get()

    response = admin_client.post(
        reverse("admin:talks_claim_add"),
        claim_form(
            [{"article": article.pk, "quote": "Russia’s delegation was led by Vladimir Medinsky"}],
            text="Vladimir Medinsky led Russia's delegation.",
            round=geneva.pk,
            party=russia.pk,
            speaker=medinsky.pk,
            kind="event",
        ),
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.round, claim.party, claim.speaker) == (geneva, russia, medinsky)
    assert list(claim.articles.all()) == [article]
    assert claim.publication_status == "draft"


def test_a_rounds_seats_are_shown_and_changed_in_the_rounds_own_form(admin_client):
    round_ = make_round(title="Seats in the round form")
    delegation = Delegation.objects.create(round=round_, party=make_party(name="Ukraine"))
    umerov = make_participant(name="Rustem Umerov")
    seat = Membership.objects.create(delegation=delegation, participant=umerov, role="member")
    url = reverse("admin:talks_round_change", args=[round_.pk])
    page = admin_client.get(url)
    assert "Rustem Umerov" in page.content.decode()
    data = form_as_shown(page, **{"delegations-0-memberships-0-role": "head"})
    assert admin_client.post(url, data).status_code == 302
    seat.refresh_from_db()
    assert seat.role == "head"


def test_a_seat_changed_on_its_own_page_is_not_saved_over_by_a_round_form_opened_before(admin_client):
    round_ = make_round(title="Seats changed meanwhile")
    delegation = Delegation.objects.create(round=round_, party=make_party(name="Ukraine"))
    seat = Membership.objects.create(delegation=delegation, participant=make_participant(), title="Adviser")
    url = reverse("admin:talks_round_change", args=[round_.pk])
    opened = form_as_shown(admin_client.get(url), summary="A summary written meanwhile.")

    seat_url = reverse("admin:talks_membership_change", args=[seat.pk])
    changed = form_as_shown(admin_client.get(seat_url), title="Head of delegation")
    assert admin_client.post(seat_url, changed).status_code == 302

    response = admin_client.post(url, opened)
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it" in response.content.decode()
    seat.refresh_from_db()
    assert seat.title == "Head of delegation"
    assert Round.objects.get(pk=round_.pk).summary == ""


def test_a_citation_changed_on_its_own_page_is_not_saved_over_by_a_claim_form_opened_before(admin_client):
    claim = make_citation(quote="talks were difficult").claim
    url = reverse("admin:talks_claim_change", args=[claim.pk])
    opened = form_as_shown(admin_client.get(url))
    citation = claim.citations.get()
    citation_url = reverse("admin:talks_citation_change", args=[citation.pk])
    assert (
        admin_client.post(
            citation_url, form_as_shown(admin_client.get(citation_url), stance="disputes")
        ).status_code
        == 302
    )

    response = admin_client.post(url, opened)
    assert response.status_code == 200
    citation.refresh_from_db()
    assert citation.stance == "disputes"

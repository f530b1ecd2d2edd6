from sources.quotes import quote_occurs_in
from sources.urlnorm import normalize_url

BODY = "He said: “We will not give up Donbas.”\nTalks   resumed on Wednesday."


def test_a_quote_copied_exactly_occurs():
    assert quote_occurs_in("“We will not give up Donbas.”", BODY)


def test_straight_and_curly_quote_marks_are_the_same_mark():
    assert quote_occurs_in('"We will not give up Donbas."', BODY)


def test_runs_of_whitespace_and_line_breaks_are_one_space():
    assert quote_occurs_in("Donbas.” Talks resumed", BODY)


def test_a_changed_word_is_not_the_same_quote():
    assert not quote_occurs_in("We will never give up Donbas.", BODY)


def test_letter_case_matters_in_a_quote():
    assert not quote_occurs_in("talks resumed on wednesday", BODY)


def test_an_empty_quote_never_occurs():
    assert not quote_occurs_in("   ", BODY)


def test_urls_lose_tracking_parameters_and_fragments_but_keep_their_path_case():
    assert (
        normalize_url("HTTP://WWW.Example.org/News/Geneva-Talks?utm_campaign=x&page=2&gclid=1#top")
        == "http://www.example.org/News/Geneva-Talks?page=2"
    )


def test_an_empty_url_stays_empty():
    assert normalize_url("  ") == ""

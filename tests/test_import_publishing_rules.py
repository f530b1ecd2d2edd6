"""`import_dataset` publishes nothing an editor could not: what a package publishes meets the rules
the admin holds a publication to, and a second reader's check is never carried over a change."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from talks.models import Claim
from tests.builders import PUBLISHED, make_article, make_citation, make_claim
from tests.packages import (
    archive_state,
    copy_of_seed,
    import_seed,
    read_rows,
    set_cell,
    write_rows,
    write_table,
)

pytestmark = pytest.mark.django_db

CLAIM = {
    "key": "talks-ended",
    "text": "The talks ended without a breakthrough.",
    "kind": "outcome",
    "sourcing": "reported",
    "checked_on": "2026-03-01",
    "publication_status": "published",
}


def refusal(path) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("import_dataset", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines()


def line_of(path, key) -> int:
    return next(line for line, row in enumerate(read_rows(path), 1) if row[0] == key)


@pytest.fixture
def archived_claim():
    """The package's claim as the archive holds it: a draft, citing a published article."""
    article = make_article(key="report", publication_status=PUBLISHED)
    claim = make_claim(key=CLAIM["key"], text=CLAIM["text"], kind=CLAIM["kind"])
    make_citation(claim=claim, article=article, quote="the talks ended")
    return claim


def test_a_published_claim_without_a_citation_is_refused(tmp_path):
    package = write_table(tmp_path / "package", "claims", [CLAIM])
    assert refusal(package) == [
        "claims.csv:2: publication_status: cannot be published: it has no citation of a published article"
    ]
    assert not Claim.objects.exists()


def test_a_published_claim_citing_only_draft_articles_is_refused(tmp_path):
    package = write_table(
        tmp_path / "package", "articles", [{"key": "draft", "language": "en", "publication_status": "draft"}]
    )
    write_table(package, "claims", [CLAIM])
    write_table(
        package,
        "citations",
        [{"claim": CLAIM["key"], "article": "draft", "quote": "the talks ended", "stance": "supports"}],
    )
    assert refusal(package) == [
        "claims.csv:2: publication_status: cannot be published: it has no citation of a published article"
    ]
    assert not Claim.objects.exists()


def test_a_published_disagreement_needs_two_published_claims(tmp_path):
    package = copy_of_seed(tmp_path)
    versions = read_rows(package / "disagreement_claims.csv")
    slug = versions[1][0]
    write_rows(
        package / "disagreement_claims.csv", [row for row in versions if row[0] != slug] + [versions[1]]
    )
    assert refusal(package) == [
        f"disagreements.csv:{line_of(package / 'disagreements.csv', slug)}: publication_status: "
        "cannot be published: it has fewer than two published claims"
    ]
    assert not Claim.objects.exists()


def test_a_package_cannot_publish_a_claim_no_second_editor_checked_in_the_archive(tmp_path, archived_claim):
    before = archive_state()
    package = write_table(tmp_path / "package", "claims", [CLAIM])  # its check date is the package's word
    [problem] = refusal(package)
    assert problem.startswith("claims.csv:2: (row): This claim cannot be published yet: no second editor")
    assert archive_state() == before


def test_a_package_publishes_a_claim_a_second_editor_checked_in_the_archive(tmp_path, archived_claim):
    Claim.objects.filter(pk=archived_claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    call_command(
        "import_dataset", str(write_table(tmp_path / "package", "claims", [CLAIM])), stdout=io.StringIO()
    )
    archived_claim.refresh_from_db()
    assert (archived_claim.publication_status, archived_claim.checked_on) == (
        PUBLISHED,
        datetime.date(2026, 3, 1),
    )


def test_a_package_cannot_publish_a_claim_in_the_import_that_changes_its_citations(tmp_path, archived_claim):
    Claim.objects.filter(pk=archived_claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    before = archive_state()
    package = write_table(tmp_path / "package", "claims", [CLAIM])
    write_table(
        package,
        "citations",
        [{"claim": CLAIM["key"], "article": "report", "quote": "another phrase", "stance": "supports"}],
    )
    assert refusal(package) == [
        "claims.csv:2: publication_status: cannot be published: "
        "no second editor has checked it against its sources"
    ]
    assert archive_state() == before


def test_a_package_that_changes_what_a_check_covers_clears_the_check_as_an_editors_change_does(tmp_path):
    import_seed()
    package = copy_of_seed(tmp_path)
    line = line_of(package / "claims.csv", "zelensky-not-easy")
    set_cell(package / "claims.csv", line, "text", "Zelensky said the negotiations were not easy.")
    call_command("import_dataset", str(package), stdout=io.StringIO())
    claim = Claim.objects.get(key="zelensky-not-easy")
    assert claim.text == "Zelensky said the negotiations were not easy."
    assert (claim.publication_status, claim.checked_on) == (PUBLISHED, None)
